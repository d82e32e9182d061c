//! The schedule a workload makes, and the limits its settings are checked against.

use super::*;
use crate::config::LoadConfig;
use rtbench_proto::Transport;
use std::time::Duration;

fn chat() -> LoadConfig {
    LoadConfig {
        clients: 25,
        rate_per_s: 0.0,
        room_size: Some(10),
        send: Some(SendFlow {
            senders_per_room: Some(7),
            rate_per_s: 2.0,
            arrivals: Arrivals::Poisson,
            payload_bytes: 64,
            burst: 1,
            burst_gap: Duration::ZERO,
            to: SendTo::Room,
        }),
        ..LoadConfig::default()
    }
}

#[test]
fn the_dashboard_is_one_room_on_the_old_schedule() {
    let config = LoadConfig::default();
    let w = Workload::build(Transport::Sse, &config).unwrap();
    assert_eq!(w.rooms.len(), 1);
    assert!(w.rooms[0].topic.starts_with("rtbench-sse-"));
    assert_eq!(w.rooms[0].members, 100);
    assert_eq!(w.pushes.len() as u64, config.scheduled_events());
    assert_eq!(w.pushes[1].0, 50_000_000);
    assert_eq!(w.events_in_window(), 200);
    assert_eq!(w.sends_in_window(), 0);
    assert_eq!(w.expected_receipts(), 250 * 100);
    assert_eq!(w.quiet_point(w.window.0), w.window.0 - 25_000_000);
    assert_eq!(w.last_offset(), 249 * 50_000_000);
}

#[test]
fn rooms_split_clients_in_order_and_the_last_may_be_smaller() {
    let config = chat();
    assert_eq!((config.rooms(), config.senders()), (3, 7 + 7 + 5));
    let w = Workload::build(Transport::WebSocket, &config).unwrap();
    let sizes: Vec<_> = w
        .rooms
        .iter()
        .map(|r| (r.first, r.members, r.senders))
        .collect();
    assert_eq!(sizes, [(0, 10, 7), (10, 10, 7), (20, 5, 5)]);
    assert_eq!(w.room_of(19), 1);
    assert!(w.is_sender(16) && !w.is_sender(17) && w.is_sender(24));
    assert!(w.pushes.is_empty());
    assert!(w.sends.windows(2).all(|p| p[0].0 <= p[1].0), "sorted");
    assert!(w.sends.iter().all(|&(_, c)| w.is_sender(c)));
    // Every message fans out to its room: the room's topic carries them all.
    let per_room: Vec<u64> = (0..3)
        .map(|r| w.sends.iter().filter(|&&(_, c)| w.room_of(c) == r).count() as u64)
        .collect();
    assert_eq!(w.room_events, per_room);
    assert_eq!(w.events_in_window(), w.sends_in_window());
    assert!(w.input_events.iter().all(|&n| n == 0));
}

#[test]
fn poisson_schedules_follow_the_seed() {
    let a = Workload::build(Transport::Tcp, &chat()).unwrap();
    let b = Workload::build(Transport::Sse, &chat()).unwrap();
    assert_eq!(a.sends, b.sends, "every transport gets the same messages");
    let other = LoadConfig { seed: 2, ..chat() };
    assert_ne!(
        a.sends,
        Workload::build(Transport::Tcp, &other).unwrap().sends
    );
}

#[test]
fn game_inputs_go_to_input_topics_and_ticks_are_spread() {
    let config = LoadConfig {
        clients: 20,
        rate_per_s: 10.0,
        room_size: Some(10),
        send: Some(SendFlow {
            to: SendTo::Server,
            arrivals: Arrivals::Fixed,
            rate_per_s: 10.0,
            senders_per_room: None,
            ..chat().send.unwrap()
        }),
        ..LoadConfig::default()
    };
    let w = Workload::build(Transport::LongPoll, &config).unwrap();
    assert_eq!(
        w.rooms[1].input_topic.as_deref(),
        Some(format!("{}.in", w.rooms[1].topic).as_str())
    );
    let ticks = config.scheduled_events();
    assert_eq!(w.room_events, [ticks, ticks], "inputs are not fanned out");
    assert_eq!(w.input_events, [10 * ticks, 10 * ticks]);
    // Room 1 ticks half a period after room 0.
    let first_of = |r| w.pushes.iter().find(|p| p.1 == r).unwrap().0;
    assert_eq!((first_of(0), first_of(1)), (0, 50_000_000));
    assert_eq!(w.expected_receipts(), 20 * ticks);
}

#[test]
fn bursts_come_as_messages_a_gap_apart() {
    let mut config = chat();
    let send = config.send.as_mut().unwrap();
    send.burst = 3;
    send.burst_gap = Duration::from_millis(10);
    send.arrivals = Arrivals::Fixed;
    send.rate_per_s = 1.0;
    let w = Workload::build(Transport::Tcp, &config).unwrap();
    let first: Vec<u64> = w
        .sends
        .iter()
        .filter(|s| s.1 == 0)
        .map(|s| s.0)
        .take(3)
        .collect();
    assert_eq!(
        first,
        [first[0], first[0] + 10_000_000, first[0] + 20_000_000]
    );
    assert_eq!(
        w.sends.len() as u64,
        19 * 13 * 3,
        "13 bursts in 12.5 s at 1/s"
    );
}

#[test]
fn limits_bite_with_one_line_reasons() {
    let bad = |f: fn(&mut LoadConfig)| {
        let mut c = chat();
        f(&mut c);
        c.validate().unwrap_err().to_string()
    };
    assert!(
        bad(|c| c.room_size = Some(26))
            .starts_with("room size must be between 1 and the client count (25) (got 26)")
    );
    let one_member_rooms = |c: &mut LoadConfig| {
        c.room_size = Some(1);
        c.send.as_mut().unwrap().senders_per_room = None;
    };
    assert!(bad(one_member_rooms).contains("at least 2 when clients send to their room"));
    assert!(
        bad(|c| c.send.as_mut().unwrap().to = SendTo::Server)
            .contains("when clients send to the server")
    );
    assert!(
        bad(|c| c.send.as_mut().unwrap().payload_bytes = 10)
            .starts_with("send payload must be between 40")
    );
    assert!(
        bad(|c| c.send.as_mut().unwrap().rate_per_s = 0.0)
            .starts_with("send rate must be greater than 0")
    );
    assert!(bad(|c| c.send = None).starts_with("rate must be greater than 0"));
    assert!(
        bad(|c| c.send.as_mut().unwrap().senders_per_room = Some(11))
            .starts_with("senders per room")
    );
    let many_rooms = LoadConfig {
        clients: 15_000,
        room_size: Some(1),
        rate_per_s: 0.01,
        arrivals: Arrivals::Poisson,
        ..LoadConfig::default()
    };
    assert!(
        many_rooms
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("topics")
    );
}
