//! Tests of the hub: sequence numbers, rings bounded in events and bytes, bounded reads, topic
//! creation all or nothing, idle topics freed.

use super::*;

fn seqs(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

#[test]
fn seq_starts_at_one_and_body_is_canonical() {
    let hub = Hub::new(8, 4);
    assert_eq!(hub.publish("t", 100, "a").unwrap(), 1);
    assert_eq!(hub.publish("t", 200, "b").unwrap(), 2);
    let (dropped, events) = hub.read_after("t", 0, 10);
    assert_eq!(dropped, 0);
    assert_eq!(seqs(&events), [1, 2]);
    assert_eq!(events[1].body, rtbench_proto::encode_body(2, 200, "b"));
    assert_eq!(events[1].t_pub_ns, 200);
}

#[test]
fn read_after_honours_cursor_and_max() {
    let hub = Hub::new(8, 4);
    for i in 0..5 {
        hub.publish("t", i, "x").unwrap();
    }
    assert_eq!(seqs(&hub.read_after("t", 2, 10).1), [3, 4, 5]);
    assert_eq!(seqs(&hub.read_after("t", 2, 2).1), [3, 4]);
    assert_eq!(hub.read_after("t", 5, 10), (0, vec![]));
    assert_eq!(hub.read_after("t", 99, 10), (0, vec![]));
    assert_eq!(hub.read_after("unknown", 0, 10), (0, vec![]));
    assert_eq!(hub.topic_count(), 1, "reading must not create topics");
}

#[test]
fn ring_drops_oldest_and_reports_gap() {
    let hub = Hub::new(3, 4);
    for i in 0..7 {
        hub.publish("t", i, "x").unwrap();
    }
    // Ring holds 5, 6, 7. A reader at cursor 1 missed 2, 3, 4.
    let (dropped, events) = hub.read_after("t", 1, 10);
    assert_eq!((dropped, seqs(&events)), (3, vec![5, 6, 7]));
    // A reader exactly at the edge missed nothing.
    assert_eq!(hub.read_after("t", 4, 10).0, 0);
    assert_eq!(hub.read_after("t", 0, 10).0, 4);
    assert_eq!(hub.events_published(), 7);
}

#[test]
fn continued_topic_reports_the_missing_history_as_a_gap() {
    let hub = Hub::new(8, 4);
    let topic = hub.topic("t").unwrap();
    assert!(topic.continue_after(10));
    assert_eq!(topic.publish(1, "x").unwrap(), 11);
    assert!(
        !topic.continue_after(20),
        "only an untouched topic continues"
    );
    let (dropped, events) = topic.read_after(4, 10);
    assert_eq!((dropped, seqs(&events)), (6, vec![11]));
    assert_eq!(topic.read_after(10, 10).0, 0);
}

#[test]
fn topics_are_bounded_and_validated() {
    let hub = Hub::new(4, 2);
    hub.topic("a").unwrap();
    hub.topic("b").unwrap();
    hub.topic("a").unwrap();
    assert_eq!(hub.topic("c").unwrap_err(), HubError::TooManyTopics(2));
    assert_eq!(
        Hub::new(4, 2).topic("a b").unwrap_err(),
        HubError::InvalidTopic
    );
}

#[test]
fn subscribers_are_woken_by_publish() {
    let hub = Hub::new(4, 2);
    let topic = hub.topic("t").unwrap();
    let mut rx = topic.subscribe();
    assert!(!rx.has_changed().unwrap());
    let seq = topic.publish_with(5, |seq| format!("p{seq}")).unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), seq);
    assert_eq!(
        topic.read_after(0, 1).1[0].body,
        rtbench_proto::encode_body(1, 5, "p1")
    );
}

#[test]
fn the_last_sequence_number_is_refused_never_wrapped() {
    let hub = Hub::new(8, 4);
    let topic = hub.topic("t").unwrap();
    assert!(topic.continue_after(u64::MAX - 1));
    assert_eq!(topic.publish(1, "last").unwrap(), u64::MAX);
    assert_eq!(topic.publish(2, "x"), Err(HubError::SequenceExhausted));
    assert_eq!(topic.last_seq(), u64::MAX);
    let (dropped, events) = topic.read_after(0, 10);
    assert_eq!((dropped, seqs(&events)), (u64::MAX - 1, vec![u64::MAX]));
    assert_eq!(topic.read_after(u64::MAX, 10), (0, vec![]));
}

#[test]
fn rings_are_bounded_in_bytes_and_reads_in_bytes() {
    let body = rtbench_proto::encode_body(1, 1, &"x".repeat(100)).len();
    // Three bodies of one-digit sequence numbers and times, the last one of two digits.
    let hub = Hub::new(1_000, 4).with_ring_bytes(body * 3 + 2);
    for i in 0..10 {
        hub.publish("t", i, &"x".repeat(100)).unwrap();
    }
    let topic = hub.get("t").unwrap();
    assert!(topic.ring_bytes() <= body * 3 + 2, "{}", topic.ring_bytes());
    let (dropped, events) = topic.read_after(0, 100);
    assert_eq!((dropped, seqs(&events)), (7, vec![8, 9, 10]));
    let mut out = Vec::new();
    assert_eq!(topic.read_bounded_into(7, 100, body * 2 + 1, &mut out), 0);
    assert_eq!(seqs(&out), [8, 9]);
    out.clear();
    topic.read_bounded_into(7, 100, 1, &mut out);
    assert_eq!(seqs(&out), [8], "at least one event");
}

#[test]
fn escaping_cannot_grow_an_event_past_the_body_limit() {
    let hub = Hub::new(8, 4);
    let control_bytes = "\u{1}".repeat(rtbench_proto::limits::MAX_PAYLOAD_BYTES);
    assert!(matches!(
        hub.publish("t", 1, &control_bytes),
        Err(HubError::BodyTooLarge(_))
    ));
    assert_eq!(hub.get("t").unwrap().last_seq(), 0, "nothing published");
    let largest = "x".repeat(rtbench_proto::limits::MAX_PAYLOAD_BYTES);
    assert_eq!(hub.publish("t", u64::MAX, &largest).unwrap(), 1);
}

#[test]
fn a_refused_set_of_topics_creates_none_and_idle_topics_are_freed() {
    let hub = Hub::new(4, 3);
    hub.topic("a").unwrap();
    assert_eq!(
        hub.topics_all(&["b", "c", "d"]).unwrap_err(),
        HubError::TooManyTopics(3)
    );
    assert_eq!(hub.topic_count(), 1);
    assert_eq!(hub.topics_all(&["a", "b", "c"]).unwrap().len(), 3);
    let held = hub.topic("b").unwrap();
    let _subscriber = hub.topic("c").unwrap().subscribe();
    assert_eq!(hub.expire_idle(0), 1, "only the unused topic a");
    assert!(hub.get("a").is_none());
    assert_eq!(hub.expire_idle(u64::MAX), 0, "not idle long enough");
    drop(held);
    assert_eq!(hub.expire_idle(0), 1);
}
