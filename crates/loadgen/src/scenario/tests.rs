//! Built-in scenarios read cleanly; bad files are refused with one line naming the file and key;
//! overrides and sweeps apply on top.

use super::knobs::{Knob, Overrides, SweepAxis, expand};
use super::*;
use crate::config::{Arrivals, SendTo};
use std::time::Duration;

const GOOD: &str = r#"
description = "a test"
clients = 20
room_size = 5

[send]
rate_per_s = 1
arrivals = "poisson"
payload_bytes = 64
to = "room"
"#;

fn err(text: &str) -> String {
    parse("t", "my.toml", text).unwrap_err().to_string()
}

#[test]
fn every_builtin_reads_and_is_valid() {
    let names: Vec<_> = builtin::names().collect();
    assert_eq!(
        names,
        [
            "dashboard",
            "notifications",
            "chat",
            "game",
            "collaboration",
            "cluster"
        ]
    );
    for name in names {
        let s = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.name, name);
        assert_eq!(s.file, format!("benches/scenarios/{name}.toml"));
        assert!(!s.description.is_empty());
        s.config.validate().unwrap();
    }
}

#[test]
fn the_dashboard_file_is_the_default_workload() {
    let d = load("dashboard").unwrap().config;
    assert_eq!(d, LoadConfig::default());
}

#[test]
fn a_file_of_ones_own_is_read_with_its_values() {
    let s = parse("mine", "mine.toml", GOOD).unwrap();
    let c = &s.config;
    assert_eq!((c.clients, c.room_size, c.rate_per_s), (20, Some(5), 0.0));
    let send = c.send.as_ref().unwrap();
    assert_eq!(
        (send.arrivals, send.to, send.burst),
        (Arrivals::Poisson, SendTo::Room, 1)
    );
    assert_eq!(c.window, Duration::from_secs(10), "defaults fill [timing]");
    let dir = std::env::temp_dir().join(format!("rtbench-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mine.toml");
    std::fs::write(&path, GOOD).unwrap();
    let loaded = load(path.to_str().unwrap()).unwrap();
    assert_eq!(loaded.name, "mine");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unknown_and_missing_keys_name_file_line_table_and_key() {
    let e = err(&format!("{GOOD}rooms = 3\n"));
    assert!(e.starts_with("my.toml:"), "{e}");
    assert!(e.contains("unknown key `rooms` in [send]"), "{e}");
    let e = err(&GOOD.replace("clients = 20", "clients = 20\nroomsize = 5"));
    assert!(
        e.starts_with("my.toml:4: unknown key `roomsize` at the top level"),
        "{e}"
    );
    let e = err(&GOOD.replace("rate_per_s = 1\n", ""));
    assert!(
        e.starts_with("my.toml:6: missing key `rate_per_s` in [send]"),
        "{e}"
    );
    let e = err(&GOOD.replace("clients = 20\n", ""));
    assert!(e.contains("missing key `clients` at the top level"), "{e}");
    let e = err(&GOOD.replace("[send]", "[sned]"));
    assert!(e.contains("unknown key `sned` at the top level"), "{e}");
    assert!(!e.contains('\n'));
}

#[test]
fn bad_values_name_the_key() {
    let e = err(&GOOD.replace("rate_per_s = 1", "rate_per_s = 0"));
    assert_eq!(
        e,
        "my.toml: send.rate_per_s must be greater than 0 and at most 1000000 (got 0)"
    );
    let e = err(&GOOD.replace("rate_per_s = 1", "rate_per_s = -2.5"));
    assert!(
        e.contains("send.rate_per_s must be greater than 0") && e.contains("(got -2.5)"),
        "{e}"
    );
    let e = err(&GOOD.replace("room_size = 5", "room_size = 50"));
    assert_eq!(e, "my.toml: room_size (50) is larger than clients (20)");
    let e = err(&GOOD.replace("\"poisson\"", "\"uniform\""));
    assert!(
        e.contains("key `arrivals` in [send]: unknown variant `uniform`"),
        "{e}"
    );
    let e = err(&GOOD.replace("clients = 20", "clients = -1"));
    assert!(
        e.contains("key `clients` at the top level: invalid value"),
        "{e}"
    );
    let e = err(&format!("{GOOD}\n[timing]\nwindow = \"soon\"\n"));
    assert!(
        e.contains("key `window` in [timing]: invalid duration"),
        "{e}"
    );
    let e = err("description = \"x\"\nclients = 3\n");
    assert!(
        e.contains("needs a [push] table, a [send] table, or both"),
        "{e}"
    );
    let e = err(&GOOD.replace("payload_bytes = 64", "payload_bytes = 8"));
    assert!(
        e.starts_with("my.toml: send payload must be between 40"),
        "{e}"
    );
}

#[test]
fn an_unknown_name_that_is_no_file_lists_the_builtins() {
    let e = load("no-such-scenario").unwrap_err().to_string();
    assert!(e.starts_with("scenario 'no-such-scenario' is not a built-in (dashboard, notifications, chat, game, collaboration, cluster, idle)"), "{e}");
}

#[test]
fn overrides_and_sweeps_apply_on_top() {
    let mut game = load("game").unwrap().config;
    let o = Overrides {
        rate: Some(60.0),
        payload: Some(64),
        clients: Some(40),
        window: Some(Duration::from_secs(3)),
        ..Overrides::default()
    };
    o.apply(&mut game);
    let send = game.send.as_ref().unwrap();
    assert_eq!(
        (game.rate_per_s, send.rate_per_s),
        (60.0, 60.0),
        "both directions"
    );
    assert_eq!((game.payload_bytes, send.payload_bytes), (64, 64));
    assert_eq!((game.clients, game.window), (40, Duration::from_secs(3)));
    let mut chat = load("chat").unwrap().config;
    knobs::set_rate(&mut chat, 2.0);
    assert_eq!(
        (chat.rate_per_s, chat.send.as_ref().unwrap().rate_per_s),
        (0.0, 2.0)
    );

    let axis: SweepAxis = "poll_interval=100ms,1s".parse().unwrap();
    assert_eq!(
        (axis.knob, axis.to_string().as_str()),
        (Knob::PollInterval, "poll_interval=100ms,1s")
    );
    let clients: SweepAxis = "clients=10,20".parse().unwrap();
    let points = expand(&LoadConfig::default(), &[clients, axis]).unwrap();
    let labels: Vec<_> = points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "clients=10 poll_interval=100ms",
            "clients=10 poll_interval=1s",
            "clients=20 poll_interval=100ms",
            "clients=20 poll_interval=1s",
        ]
    );
    assert_eq!(points[3].config.clients, 20);
    assert_eq!(points[3].config.poll_interval, Duration::from_secs(1));
    assert!(
        "speed=1"
            .parse::<SweepAxis>()
            .unwrap_err()
            .to_string()
            .starts_with("cannot sweep 'speed'")
    );
    assert!(
        "clients=10,x"
            .parse::<SweepAxis>()
            .unwrap_err()
            .to_string()
            .contains("clients=x: not a count")
    );
    assert!("poll_interval=soon".parse::<SweepAxis>().is_err());
    assert!("rate".parse::<SweepAxis>().is_err());
}
