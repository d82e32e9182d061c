//! Interval logs written with hdrhistogram's writer, read back: figures per interval, the
//! transport from the tag, and every unusable file turned into a sentence, never an error.

use super::*;
use crate::test_support::hlog;

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rtbench-hlog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn each_interval_gives_p50_p99_and_max_and_the_tag_names_the_transport() {
    let second: Vec<u64> = (1..=100).map(|i| i * 1_000_000).collect();
    let text = hlog(
        1_700_000_000,
        "long_poll",
        &[&[2_000_000; 10], &[], &second],
    );
    let log = parse("latency-long_poll-clients_100.hlog", &text).unwrap();
    assert_eq!(log.transport, Transport::LongPoll);
    assert_eq!(log.label, "clients_100");
    assert_eq!(log.start_unix_s, Some(1_700_000_000.0));
    assert_eq!(log.intervals.len(), 2, "the empty second is left out");
    let (a, b) = (log.intervals[0], log.intervals[1]);
    assert_eq!((a.start_s, a.count), (0.0, 10));
    assert!((a.p50_us - 2_000.0).abs() < 2.0 && (a.max_us - 2_000.0).abs() < 2.0);
    assert_eq!((b.start_s, b.count), (2.0, 100));
    assert!((b.p50_us - 50_000.0).abs() < 50.0, "{}", b.p50_us);
    assert!((b.p99_us - 99_000.0).abs() < 100.0, "{}", b.p99_us);
    assert!((b.max_us - 100_000.0).abs() < 100.0, "{}", b.max_us);
}

#[test]
fn unusable_files_become_sentences_and_good_ones_are_read() {
    let d = dir("mixed");
    let started = 1_700_000_000;
    std::fs::write(
        d.join("latency-sse.hlog"),
        hlog(started, "sse", &[&[1_000_000]]),
    )
    .unwrap();
    std::fs::write(
        d.join("latency-tcp.hlog"),
        hlog(started + 2, "tcp", &[&[500_000]]),
    )
    .unwrap();
    std::fs::write(
        d.join("latency-websocket.hlog"),
        hlog(started - 3_600, "websocket", &[&[1]]),
    )
    .unwrap();
    std::fs::write(
        d.join("latency-long_poll.hlog"),
        b"#[StartTime: x\nnot a log\n",
    )
    .unwrap();
    std::fs::write(
        d.join("latency-short_poll.hlog"),
        hlog(started, "short_poll", &[&[]]),
    )
    .unwrap();
    std::fs::write(d.join("other.hlog"), b"ignored").unwrap();
    let logs = read_dir(&d, started);
    let read: Vec<Transport> = logs.logs.iter().map(|l| l.transport).collect();
    assert_eq!(read, [Transport::Tcp, Transport::Sse], "transport order");
    assert_eq!(logs.problems.len(), 3, "{:?}", logs.problems);
    let all = logs.problems.join(" | ");
    assert!(
        all.contains("latency-websocket.hlog: left over from an earlier run"),
        "{all}"
    );
    assert!(
        all.contains("latency-long_poll.hlog: unreadable after 0 intervals"),
        "{all}"
    );
    assert!(
        all.contains("latency-short_poll.hlog: no receipts recorded"),
        "{all}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn no_files_and_no_directory_are_not_errors() {
    let d = dir("empty");
    assert_eq!(read_dir(&d, 0), LatencyLogs::default());
    std::fs::remove_dir_all(&d).unwrap();
    assert_eq!(read_dir(&d, 0).problems.len(), 1);
}
