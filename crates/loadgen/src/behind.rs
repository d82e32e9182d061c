//! Loss that explains itself under overload: of the events a client never received, which the
//! server had not published when the drain ended (its schedule fell behind), and which were
//! published but still after the client's cursor without a gap notice (the client was behind:
//! late, not dropped). The rest of the loss is the ring's (gap notices, `lost_in_gaps`) or
//! unexplained. The row's `lost` counts only that rest: late and unpublished events are reported
//! beside it (`overload`), and `Row::undelivered` adds all three.

use crate::control::Control;
use crate::error::LoadError;
use crate::recorder::Tally;
use crate::workload::Workload;
use rtbench_results::Overload;

/// The drain's-end account of `tallies` (each with its room): the server is asked what each room's
/// topic holds only when a client of that room ended short of its last event, so a phase where
/// every client got everything costs no request. After a server restart the restarted server's
/// history is not the run's, so every event counts as published.
pub(crate) async fn at_drain_end(
    workload: &Workload,
    tallies: &[(usize, Tally)],
    control: &Control,
    restarted: bool,
) -> Result<Overload, LoadError> {
    let mut published = workload.room_events.clone();
    let short = |r: usize| {
        (tallies.iter()).any(|(room, t)| *room == r && t.cursor() < workload.room_events[r])
    };
    if !restarted {
        for (r, room) in workload.rooms.iter().enumerate() {
            if short(r) {
                published[r] = control.published(&room.topic, published[r]).await?;
            }
        }
    }
    Ok(account(&workload.room_events, &published, tallies))
}

/// The account, given each room's last event and the last one the server published.
pub(crate) fn account(
    room_events: &[u64],
    published: &[u64],
    tallies: &[(usize, Tally)],
) -> Overload {
    let mut o = Overload::default();
    for (r, t) in tallies {
        let (last, published) = (room_events[*r], published[*r].min(room_events[*r]));
        o.unpublished += last - published.max(t.cursor().min(last));
        let late = t.late(published);
        if late > 0 {
            o.late += late;
            o.late_clients += 1;
            o.late_max_behind_events = o.late_max_behind_events.max(published - t.cursor());
        }
    }
    o
}

/// `N late: C clients still behind …` and `N never published …`, the parts of a row's loss the
/// drain's end explains; `None` when there are none.
pub(crate) fn note(o: &Overload) -> Option<String> {
    let mut parts = Vec::new();
    if o.unpublished > 0 {
        parts.push(format!(
            "{} (events × members) not yet published by the server when the drain ended: its schedule fell behind",
            o.unpublished
        ));
    }
    if o.late > 0 {
        parts.push(format!(
            "{} late, not dropped: {} clients were still behind when the drain ended, by up to {} events",
            o.late, o.late_clients, o.late_max_behind_events
        ));
    }
    (!parts.is_empty()).then(|| format!("not delivered but not lost: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::Recorder;

    /// Receives `seqs`, then ends.
    fn client(seqs: impl IntoIterator<Item = u64>, gap: Option<u64>) -> Tally {
        let mut r = Recorder::default();
        for s in seqs {
            r.on_event_at(s, 0, 0);
        }
        if let Some(g) = gap {
            r.on_gap(g);
        }
        r.finish(None)
    }

    #[test]
    fn a_client_behind_at_the_end_is_late_and_unpublished_events_are_the_servers() {
        // Room 0: 20 events, the server published 16. Room 1: 10 events, all published.
        let tallies = vec![
            (0, client(1..=16, None)),    // got everything published
            (0, client(1..=10, None)),    // behind by 6
            (0, client(1..=12, Some(2))), // 13, 14 gone from the ring; behind by 2 more
            (1, client(1..=10, None)),    // complete
            (1, client(1..=7, None)),     // behind by 3
        ];
        let lost: u64 = tallies.iter().map(|(r, t)| t.lost([20, 10][*r])).sum();
        let o = account(&[20, 10], &[16, 10], &tallies);
        assert_eq!(
            o.unpublished,
            4 * 3,
            "17..=20 for each of room 0's three clients"
        );
        assert_eq!(o.late, 6 + 2 + 3);
        assert_eq!((o.late_clients, o.late_max_behind_events), (3, 6));
        let in_gaps: u64 = tallies
            .iter()
            .map(|(r, t)| t.lost_in_gaps([20, 10][*r]))
            .sum();
        assert_eq!(
            lost,
            o.unpublished + o.late + in_gaps,
            "every lost event explained"
        );
        let note = note(&o).unwrap();
        assert!(note.contains("11 late, not dropped: 3 clients"), "{note}");
        assert!(
            note.contains("12 (events × members) not yet published"),
            "{note}"
        );
        assert_eq!(self::note(&Overload::default()), None);
    }

    /// Against a real server: the room's topic holds 16 of its 45 events when the drain ends,
    /// one client holds 1..=10, another everything published. The server is asked once.
    #[tokio::test]
    async fn at_the_drain_end_the_server_says_what_was_published() {
        use crate::config::LoadConfig;
        use crate::control::{Control, Target};
        use rtbench_proto::Transport;
        let server = rtbench_server::testing::TestServer::start(Default::default())
            .await
            .unwrap();
        let target = Target::plain(server.http, server.tcp);
        let config = LoadConfig {
            clients: 2,
            rate_per_s: 50.0,
            ..LoadConfig::default()
        };
        let workload = Workload::build(Transport::Sse, &config).unwrap();
        let last = workload.room_events[0];
        assert!(last > 16);
        for seq in 1..=16 {
            let published = server
                .server
                .hub()
                .publish(&workload.rooms[0].topic, seq, "{}");
            assert_eq!(published.unwrap(), seq);
        }
        let tallies = vec![(0, client(1..=10, None)), (0, client(1..=16, None))];
        let control = Control::new(&target).unwrap();
        let o = at_drain_end(&workload, &tallies, &control, false)
            .await
            .unwrap();
        assert_eq!(
            (o.late, o.late_clients, o.late_max_behind_events),
            (6, 1, 6)
        );
        assert_eq!(o.unpublished, 2 * (last - 16));
        let restarted = at_drain_end(&workload, &tallies, &control, true)
            .await
            .unwrap();
        // After a restart every event counts as published: both clients were behind.
        let behind = (last - 10) + (last - 16);
        assert_eq!((restarted.late, restarted.unpublished), (behind, 0));
    }
}
