//! The recorder's tests, and the check that the bounded recorder finds exactly what the unbounded
//! one it replaced found: [`reference`] is that recorder (a bitset over every sequence number and
//! every receipt kept), fed the same receipts.

use super::*;
use proptest::prelude::*;
use rtbench_results::histogram::{LatencyHistogram, new_histogram};

/// The recorder as it was before receipts were classified at arrival: every receipt kept, a
/// bitset that grows with the highest sequence number.
mod reference {
    #[derive(Default)]
    pub struct Old {
        seen: Vec<u64>,
        max_seen: u64,
        pub receipts: Vec<(u64, u64)>,
        pub duplicated: u64,
        pub reordered: u64,
        gap_ranges: Vec<(u64, u64)>,
    }

    impl Old {
        pub fn on_event_at(&mut self, seq: u64, t_pub_ns: u64, now_ns: u64) {
            let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
            if word >= self.seen.len() {
                self.seen.resize(word + 1, 0);
            }
            if self.seen[word] & bit != 0 {
                self.duplicated += 1;
                return;
            }
            self.seen[word] |= bit;
            if seq < self.max_seen {
                self.reordered += 1;
            }
            self.max_seen = self.max_seen.max(seq);
            self.receipts
                .push((t_pub_ns, now_ns.saturating_sub(t_pub_ns)));
        }

        pub fn on_gap(&mut self, dropped: u64) {
            if dropped == 0 {
                return;
            }
            let (from, to) = (self.max_seen + 1, self.max_seen.saturating_add(dropped));
            match self.gap_ranges.last_mut() {
                Some(last) if from <= last.1.saturating_add(1) => last.1 = last.1.max(to),
                _ => self.gap_ranges.push((from, to)),
            }
        }

        fn missing(&self, s: u64) -> bool {
            self.seen
                .get((s / 64) as usize)
                .is_none_or(|w| w & (1 << (s % 64)) == 0)
        }

        pub fn lost(&self, last: u64) -> u64 {
            (1..=last).filter(|&s| self.missing(s)).count() as u64
        }

        pub fn lost_in_gaps(&self, last: u64) -> u64 {
            (self.gap_ranges.iter())
                .flat_map(|&(a, b)| a.max(1)..=b.min(last))
                .filter(|&s| self.missing(s))
                .count() as u64
        }
    }
}

/// A recorder for client 0 recording into a sink whose window is `[from, to)`.
fn recording(from: u64, to: u64) -> (Recorder, Arc<LatencySink>) {
    let sink = Arc::new(LatencySink::new());
    sink.set_window(from, to);
    (Recorder::recording_to(0, sink.clone()), sink)
}

/// The old logic's window histogram: receipts scheduled in `[from, to)`.
fn old_histogram(old: &reference::Old, from: u64, to: u64) -> LatencyHistogram {
    let mut h = new_histogram();
    for &(_, l) in old.receipts.iter().filter(|(t, _)| (from..to).contains(t)) {
        h.saturating_record(l.max(1));
    }
    h
}

/// A histogram of `latencies_ns`.
fn histogram_of(latencies_ns: &[u64]) -> LatencyHistogram {
    let mut h = new_histogram();
    for &l in latencies_ns {
        h.saturating_record(l);
    }
    h
}

#[test]
fn counts_loss_duplicates_and_reordering() {
    let (mut r, sink) = recording(200, 400);
    for (seq, now) in [(1, 110), (2, 220), (2, 230), (4, 440), (3, 350)] {
        r.on_event_at(seq, seq * 100, now);
    }
    assert_eq!(r.cursor(), 4);
    let t = r.finish(None);
    assert_eq!(t.duplicated(), 1);
    assert_eq!(t.reordered(), 1);
    assert_eq!(t.lost(6), 2);
    assert_eq!(sink.window_histogram(), histogram_of(&[20, 50]));
}

#[test]
fn stamped_messages_count_from_their_stamp_and_own_ones_are_not_deliveries() {
    let (mut r, sink) = recording(0, 10_000);
    r.client_id = Some(7);
    let other = stamp::encode(1_000, 3, 48);
    let own = stamp::encode(2_000, 7, 48);
    let pushed = rtbench_proto::make_payload(3, 48);
    for (seq, payload) in [(1, &other), (2, &own), (3, &pushed)] {
        let body = rtbench_proto::encode_body(seq, 5_000, payload);
        r.on_event_body(&rtbench_proto::parse_body(&body).unwrap(), 6_000);
    }
    assert_eq!(r.first_receipts(), 3);
    let t = r.finish(None);
    assert_eq!(t.lost(3), 0);
    assert_eq!(sink.window_histogram(), histogram_of(&[5_000, 1_000]));
}

#[test]
fn gap_notices_explain_loss_once_even_when_repeated() {
    let mut r = Recorder::default();
    r.on_event_at(1, 0, 0);
    r.on_gap(3); // 2, 3, 4 gone
    r.on_gap(3); // the same notice again after a reconnect
    r.on_event_at(5, 0, 0);
    r.on_gap(2); // 6, 7 gone: adjacent, merged
    r.on_event_at(9, 0, 0);
    r.on_reconnect();
    let t = r.finish(None);
    assert_eq!(t.gap_dropped(), 8, "summed over notices");
    assert_eq!(t.lost(10), 7, "2, 3, 4, 6, 7, 8, 10");
    assert_eq!(t.lost_in_gaps(10), 5, "8 and 10 were never announced");
    assert_eq!(t.lost_in_gaps(6), 4, "2, 3, 4, 6");
    assert_eq!(t.reconnects(), 1);
}

#[test]
fn a_client_behind_at_the_end_is_late_not_lost() {
    let mut r = Recorder::default();
    for seq in 1..=6 {
        r.on_event_at(seq, 0, 0);
    }
    r.on_gap(2); // 7, 8 fell out of the ring
    r.on_event_at(9, 0, 0);
    r.on_event_at(10, 0, 0);
    // The server published 1..=14 of 16; the drain ended with this client at 10.
    let t = r.finish(None);
    assert_eq!(t.lost(16), 8, "7, 8 and 11..=16 never arrived");
    assert_eq!(t.lost_in_gaps(16), 2);
    assert_eq!(
        t.late(14),
        4,
        "11..=14 were published: the client was behind"
    );
    assert_eq!(t.late(10), 0, "nothing after the cursor was published");
    let mut r = Recorder::default();
    r.on_event_at(1, 0, 0);
    r.on_gap(5); // 2..=6 gone: a gap after the cursor is not late
    assert_eq!(r.finish(None).late(8), 2, "7 and 8 only");
}

#[test]
fn beyond_the_reorder_window_an_old_event_is_lost_and_reordered() {
    let mut r = Recorder::default();
    let window = crate::seqset::REORDER_WINDOW;
    for seq in (1..=3 * window).filter(|&s| s != 10) {
        r.on_event_at(seq, 0, 0);
    }
    r.on_event_at(10, 0, 0); // far too late: the window gave it up
    let t = r.finish(None);
    assert_eq!(t.lost(3 * window), 1);
    assert_eq!((t.reordered(), t.below_window(), t.duplicated()), (1, 1, 0));
}

/// One receipt or gap notice of a generated trace.
#[derive(Debug, Clone)]
enum Step {
    Event { seq: u64, t: u64, late: u64 },
    Gap(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (1u64..300, 0u64..1_000, 0u64..5_000_000)
            .prop_map(|(seq, t, late)| Step::Event { seq, t, late }),
        1 => (0u64..20).prop_map(Step::Gap),
    ]
}

proptest! {
    /// Receipts (duplicates, reordering, gaps; within the reorder window) give the same
    /// counts and the same window histogram as the unbounded recorder did.
    #[test]
    fn same_figures_as_the_unbounded_recorder(
        steps in prop::collection::vec(step(), 0..400),
        last in 1u64..320,
        (from, to) in (0u64..600, 0u64..600).prop_map(|(a, b)| (a.min(b), a.max(b))),
    ) {
        let (mut new, sink) = recording(from, to);
        let mut old = reference::Old::default();
        for s in &steps {
            match *s {
                Step::Event { seq, t, late } => {
                    new.on_event_at(seq, t, t + late);
                    old.on_event_at(seq, t, t + late);
                }
                Step::Gap(n) => {
                    new.on_gap(n);
                    old.on_gap(n);
                }
            }
        }
        let new = new.finish(None);
        prop_assert_eq!(new.lost(last), old.lost(last));
        prop_assert_eq!(new.lost_in_gaps(last), old.lost_in_gaps(last));
        prop_assert_eq!(new.duplicated(), old.duplicated);
        prop_assert_eq!(new.reordered(), old.reordered);
        prop_assert_eq!(sink.window_histogram(), old_histogram(&old, from, to));
    }
}

/// A long in-order run with holes passes many windows: the same figures, and memory bounded.
#[test]
fn same_figures_over_a_long_run_with_holes() {
    let (mut new, sink) = recording(1_000, 90_000);
    let mut old = reference::Old::default();
    for seq in (1..=100_000u64).filter(|s| s % 997 != 0) {
        let t = seq * 10;
        new.on_event_at(seq, t, t + seq % 4_096);
        old.on_event_at(seq, t, t + seq % 4_096);
    }
    let new = new.finish(None);
    assert_eq!(new.lost(100_100), old.lost(100_100));
    assert_eq!(
        new.lost(100_100),
        100 + 100,
        "every 997th, and 100_001..=100_100"
    );
    assert_eq!(sink.window_histogram(), old_histogram(&old, 1_000, 90_000));
}
