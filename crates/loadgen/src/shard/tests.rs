//! The shard protocol's values round-trip, ranges split evenly, histograms merge losslessly.

use super::*;

/// A shard's result with these window latencies.
pub(crate) fn result(latencies_ns: &[u64], lost: u64, bound: bool) -> ShardResult {
    let mut h = new_histogram();
    for &v in latencies_ns {
        h.record(v).unwrap();
    }
    let mut lag = new_histogram();
    lag.record(1_000).unwrap();
    ShardResult {
        window_histogram: h,
        lag_histogram: lag,
        received: latencies_ns.len() as u64,
        lost,
        duplicated: 1,
        reordered: 2,
        client_errors: 0,
        reconnects: 3,
        lost_in_gaps: 0,
        behind: Overload {
            late: lost,
            late_clients: u64::from(lost > 0),
            late_max_behind_events: lost,
            ..Overload::default()
        },
        cpu_us: 400_000,
        window_us: 1_000_000,
        rss_bytes: (Some(10), Some(12)),
        loadgen_bound: bound,
        first_error: None,
        clock: None,
    }
}

#[test]
fn spec_and_reports_round_trip_through_json() {
    let spec = ShardSpec {
        shard: 2,
        shards: 3,
        transport: Transport::Sse,
        http: "127.0.0.1:8080".parse().unwrap(),
        tcp: "127.0.0.1:9090".parse().unwrap(),
        tag: "rtbench-sse-0000abcd".into(),
        first_client: 17,
        end_client: 34,
        cpu: Some(0),
        latency_log: Some("/tmp/latency-sse.hlog.shard2".into()),
        tls_cert_pem: Some("not a certificate".into()),
        http2: false,
        remote: true,
        config: ShardConfig::of(&LoadConfig::default()),
    };
    let back: ShardSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
    assert_eq!(back, spec);
    let err = spec.target().unwrap_err().to_string();
    assert!(
        err.contains("shard TLS"),
        "a bad certificate is an error: {err}"
    );
    let plain = ShardSpec {
        tls_cert_pem: None,
        http2: false,
        ..spec.clone()
    };
    assert!(plain.target().unwrap().tls.is_none());
    let config = back.config.to_load_config(Transport::Sse);
    assert_eq!(
        ShardConfig::of(&config),
        spec.config,
        "the config survives the trip"
    );
    let done = ShardReport::Done(Box::new(result(&[1_000, 2_000, 3_000_000], 4, true)));
    let text = serde_json::to_string(&done).unwrap();
    assert!(!text.contains('\n'), "one line");
    let back: ShardReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, done, "histograms included, losslessly");
    for r in [
        ShardReport::Ready,
        ShardReport::Failed { error: "x".into() },
    ] {
        assert_eq!(
            serde_json::from_str::<ShardReport>(&serde_json::to_string(&r).unwrap()).unwrap(),
            r
        );
    }
}

#[test]
fn merging_adds_histograms_and_counters() {
    let a = result(&[1_000, 2_000], 0, false);
    let b = result(&[5_000, 7_000_000, 9_000], 6, true);
    let m = merge(&[a.clone(), b.clone()]);
    assert_eq!(m.window_histogram.len(), 5);
    let mut one = new_histogram();
    for v in [1_000u64, 2_000, 5_000, 7_000_000, 9_000] {
        one.record(v).unwrap();
    }
    assert_eq!(
        m.window_histogram, one,
        "the same histogram as one process's"
    );
    let t = &m.totals;
    assert_eq!(
        (t.received, t.lost, t.duplicated, t.reordered),
        (5, 6, 2, 4)
    );
    assert_eq!(
        (t.reconnects, t.cpu_us, t.rss_bytes),
        (6, 800_000, (Some(20), Some(24)))
    );
    assert_eq!((t.behind.late, t.behind.late_clients), (6, 1));
    assert!(t.loadgen_bound);
    assert_eq!(m.bound_shards, vec![2]);
    assert_eq!(m.lag_histogram.len(), 2);
}

#[test]
fn ranges_cover_every_client_once() {
    assert_eq!(split(10, 3), vec![0..4, 4..7, 7..10]);
    assert_eq!(split(2, 5), vec![0..1, 1..2], "never an empty shard");
    assert_eq!(split(7, 1), vec![0..7]);
}

#[test]
fn processes_grow_when_a_share_would_not_fit_the_open_file_limit() {
    assert_eq!(procs_needed(18_000, 1, 20_000), Some(1));
    assert_eq!(procs_needed(50_000, 1, 20_000), Some(3));
    assert_eq!(procs_needed(50_000, 4, 20_000), Some(4));
    assert_eq!(procs_needed(10, 1, 100), None, "not even one client fits");
}

#[test]
fn only_receive_only_loopback_workloads_are_split() {
    let bad = |f: fn(&mut LoadConfig)| {
        let mut c = LoadConfig {
            loadgen_procs: 2,
            ..LoadConfig::default()
        };
        f(&mut c);
        c.validate().map_err(|e| e.to_string())
    };
    assert!(bad(|_| {}).is_ok());
    assert!(
        bad(|c| c.loadgen_procs = 0)
            .unwrap_err()
            .starts_with("--loadgen-procs must be between 1")
    );
    assert!(
        bad(|c| c.clients = 1)
            .unwrap_err()
            .contains("at most the number of clients")
    );
    assert!(
        bad(|c| c.conditions.name = "lan".into())
            .unwrap_err()
            .contains("only receive")
    );
}

/// Latencies from a fixed linear congruential sequence: 1 µs to about 65 ms, skewed low.
pub(crate) fn synthetic(seed: u64, n: usize) -> Vec<u64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let r = (x >> 33) % 65_536;
            1_000 + r * r
        })
        .collect()
}

#[test]
fn three_shards_merge_to_the_histogram_of_all_their_samples() {
    let samples: Vec<Vec<u64>> = [(1, 5_000), (2, 7_321), (3, 2_999)]
        .iter()
        .map(|&(seed, n)| synthetic(seed, n))
        .collect();
    let mut shards: Vec<ShardResult> = samples.iter().map(|s| result(s, 1, false)).collect();
    for (i, s) in shards.iter_mut().enumerate() {
        s.clock = Some(ShardClock {
            index: i as u32,
            host: format!("h{i}"),
            ..ShardClock::default()
        });
    }
    let merged = merge(&shards);
    let mut all = new_histogram();
    for &v in samples.iter().flatten() {
        all.record(v).unwrap();
    }
    let counts: u64 = shards.iter().map(|s| s.window_histogram.len()).sum();
    assert_eq!(merged.window_histogram.len(), counts);
    assert_eq!(merged.window_histogram.len(), 15_320);
    for q in [0.5, 0.99] {
        assert_eq!(
            merged.window_histogram.value_at_quantile(q),
            all.value_at_quantile(q),
            "quantile {q}"
        );
    }
    assert_eq!(
        merged.window_histogram, all,
        "every bucket, not only p50 and p99"
    );
    let t = &merged.totals;
    assert_eq!((t.received, t.lost, t.duplicated), (15_320, 3, 3));
    let hosts: Vec<&str> = merged.clocks.iter().map(|c| c.host.as_str()).collect();
    assert_eq!(
        hosts,
        ["h0", "h1", "h2"],
        "each shard's clock kept, in order"
    );
}

#[test]
fn a_remote_result_carries_its_clock_through_json() {
    let mut r = result(&[1_000], 0, false);
    r.clock = Some(ShardClock {
        index: 2,
        host: "loadgen-2 (10.0.0.3)".into(),
        start: rtbench_results::ClockOffset {
            offset_ns: -1_234_567,
            uncertainty_ns: 40_000,
        },
        end: rtbench_results::ClockOffset {
            offset_ns: -1_230_000,
            uncertainty_ns: 55_000,
        },
    });
    let back: ShardResult = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let clock = back.clock.unwrap();
    assert_eq!((clock.uncertainty_ns(), clock.drift_ns()), (55_000, 4_567));
    // A local shard's result of before this field still reads.
    let mut old: serde_json::Value = serde_json::to_value(result(&[1_000], 0, false)).unwrap();
    old.as_object_mut().unwrap().remove("clock");
    let old: ShardResult = serde_json::from_value(old).unwrap();
    assert_eq!(old.clock, None);
}
