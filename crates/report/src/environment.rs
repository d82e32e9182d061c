//! Where and how a run was made, in the words every view uses: the workload, the machine, the
//! start time and the command that reproduces it.

use crate::format;
use rtbench_results::Results;

/// The line that states the workload, as a reader needs it to interpret the table.
pub fn workload_line(r: &Results) -> String {
    let c = &r.config;
    if let Some(connections) = c.connections {
        return format!(
            "scenario {}: {connections} connections per transport held {} s with no events, \
             short-poll interval {} ms, long-poll hold {} ms",
            c.scenario,
            format::number(c.idle_window_ms.unwrap_or(c.window_ms) as f64 / 1_000.0),
            c.poll_interval_ms,
            c.longpoll_timeout_ms,
        );
    }
    let mut parts = vec![format!("{} clients per transport", c.clients)];
    if (1..c.clients).contains(&c.room_size) {
        parts.push(format!("in rooms of {}", c.room_size));
    }
    if c.rate_per_s > 0.0 {
        let per = if (1..c.clients).contains(&c.room_size) {
            " per room"
        } else {
            ""
        };
        parts.push(format!(
            "server events {}/s{per}, {} B payload",
            format::number(c.rate_per_s),
            c.payload_bytes
        ));
    }
    if c.send_rate_per_s > 0.0 {
        parts.push(format!(
            "client messages {}/s per sender",
            format::number(c.send_rate_per_s)
        ));
    }
    parts.push(format!(
        "short-poll interval {} ms, {} s warm-up (discarded), {} s measured window",
        c.poll_interval_ms,
        format::number(c.warmup_ms as f64 / 1_000.0),
        format::number(c.window_ms as f64 / 1_000.0),
    ));
    if !c.sweep.is_empty() {
        parts.push(format!("sweep {}", c.sweep.join(" × ")));
    }
    if c.repeat > 1 {
        parts.push(format!(
            "each point {} times, transports interleaved (medians, min–max)",
            c.repeat
        ));
    }
    let about = match c.scenario_description.is_empty() {
        true => String::new(),
        false => format!(" ({})", c.scenario_description),
    };
    format!("scenario {}{about}: {}", c.scenario, parts.join(", "))
}

/// The line that states the server's buffer settings, when the results record them.
pub fn settings_line(r: &Results) -> Option<String> {
    let info = r.config.server.as_ref()?;
    let s = &info.settings;
    Some(format!(
        "server settings: WebSocket read buffer {} B, write buffer {} B; HTTP engine {}, hyper max \
         buffer {} B, writev {}; SSE keep-alive {} ms; allocator {}",
        s.ws_read_buffer_bytes,
        s.ws_write_buffer_bytes,
        s.http_engine,
        s.http_max_buf_bytes,
        if s.http_writev { "on" } else { "off" },
        s.sse_keep_alive_ms,
        info.allocator
    ))
}

/// The line that states where the numbers were made, and with which build.
pub fn machine_line(r: &Results) -> String {
    let e = &r.environment;
    format!(
        "{}, {} cores, Linux {}, {}, commit {}{}; {}",
        e.cpu_model,
        e.cores,
        e.kernel,
        e.rustc,
        short_commit(&e.git_commit),
        profile_words(&e.build_profile),
        e.placement.description
    )
}

/// A commit as people quote it: 12 hex digits, `-dirty` kept.
pub fn short_commit(commit: &str) -> String {
    let (hash, dirty) = match commit.strip_suffix("-dirty") {
        Some(hash) => (hash, "-dirty"),
        None => (commit, ""),
    };
    let short: String = hash.chars().take(12).collect();
    format!("{short}{dirty}")
}

/// `, release build` / `, DEBUG BUILD`, or nothing when the document does not record it.
fn profile_words(profile: &str) -> String {
    match profile {
        "" => String::new(),
        "debug" => ", DEBUG BUILD".into(),
        other => format!(", {other} build"),
    }
}

/// The warning every view shows for a debug build's figures.
pub fn debug_build_note(r: &Results) -> Option<String> {
    r.environment.is_debug_build().then(|| {
        "DEBUG BUILD: these figures were measured by an unoptimised rtbench (built without \
         --release); latencies and CPU per delivery are the debug code's, not the transports', \
         and the ratings may be off by a level"
            .to_string()
    })
}

/// `arg` as a POSIX shell reads it back unchanged.
fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=,@%+-".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The command that reproduces the run from a checkout: the recorded arguments through
/// `cargo run --release`, after checking out the recorded commit when it is known.
pub fn reproduce_line(r: &Results) -> String {
    let args: Vec<String> = r.command.iter().skip(1).map(|a| shell_quote(a)).collect();
    let run = format!("cargo run --release -- {}", args.join(" "));
    let commit = r.environment.git_commit.trim_end_matches("-dirty");
    if commit.is_empty() || commit == "unknown" {
        run
    } else {
        format!("git checkout {commit} && {run}")
    }
}

/// The command line exactly as recorded, program first.
pub fn recorded_command(r: &Results) -> String {
    r.command
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A note when the run was made from uncommitted changes, which the command cannot bring back.
pub fn dirty_note(r: &Results) -> Option<String> {
    r.environment.git_commit.ends_with("-dirty").then(|| {
        "the run was made from a checkout with uncommitted changes; the commit is the closest one".to_string()
    })
}

/// Seconds since the Unix epoch as a UTC date and time: `2025-11-25 01:45:00 UTC`.
pub fn utc(unix_s: u64) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Civil-from-days (H. Hinnant), valid for every date after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `tcp, websocket, sse`: transports by their names, as the command line takes them.
fn transport_names(transports: &[rtbench_results::Transport]) -> String {
    let names: Vec<&str> = transports.iter().map(|t| t.as_str()).collect();
    names.join(", ")
}

/// The run's settings as (name, value) pairs, for the environment section.
pub fn config_pairs(r: &Results) -> Vec<(String, String)> {
    let c = &r.config;
    let ms = |v: u64| format!("{v} ms");
    let rooms = match (1..c.clients).contains(&c.room_size) {
        true => format!("rooms of {} (one topic each)", c.room_size),
        false => "one room (one topic)".to_string(),
    };
    let events = match c.rate_per_s > 0.0 {
        true => format!("{} events/s", format::number(c.rate_per_s)),
        false => "none".to_string(),
    };
    let messages = match c.send_rate_per_s > 0.0 {
        true => format!("{}/s per sender", format::number(c.send_rate_per_s)),
        false => "none".to_string(),
    };
    [
        ("scenario", c.scenario.clone()),
        ("clients per transport", c.clients.to_string()),
        ("rooms", rooms),
        ("server event rate", events),
        ("client messages", messages),
        ("payload", format!("{} B", c.payload_bytes)),
        ("short-poll interval", ms(c.poll_interval_ms)),
        ("long-poll hold", ms(c.longpoll_timeout_ms)),
        ("warm-up (discarded)", ms(c.warmup_ms)),
        ("measured window", ms(c.window_ms)),
        (
            "tail / drain",
            format!("{} / {}", ms(c.tail_ms), ms(c.drain_ms)),
        ),
        ("transports", transport_names(&c.transports)),
        (
            "server",
            format!("http {} · tcp {}", c.server_http, c.server_tcp),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_quoting() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(shell_quote("--out"), "--out");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn reproduce_checks_out_the_commit_without_dirty() {
        let mut r = crate::test_support::run("a.json", vec![]).results;
        r.command = vec![
            "target/release/rtbench".into(),
            "run".into(),
            "--rate".into(),
            "2".into(),
        ];
        r.environment.git_commit = "abc123-dirty".into();
        assert_eq!(
            reproduce_line(&r),
            "git checkout abc123 && cargo run --release -- run --rate 2"
        );
        assert!(dirty_note(&r).is_some());
        assert_eq!(recorded_command(&r), "target/release/rtbench run --rate 2");
    }

    #[test]
    fn a_chat_run_names_rooms_and_messages_not_zero_events() {
        let mut r = crate::test_support::run("a.json", vec![]).results;
        (r.config.clients, r.config.room_size) = (100, 10);
        (r.config.rate_per_s, r.config.send_rate_per_s) = (0.0, 0.5);
        let pairs = config_pairs(&r);
        let get = |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| p.1.as_str());
        assert_eq!(get("server event rate"), Some("none"));
        assert_eq!(get("client messages"), Some("0.5/s per sender"));
        assert_eq!(get("rooms"), Some("rooms of 10 (one topic each)"));
    }

    #[test]
    fn a_debug_build_is_marked_in_every_view() {
        let mut run = crate::test_support::run(
            "a.json",
            vec![crate::test_support::row("tcp", 20.0, 500, 500.0, 180.0)],
        );
        run.results.environment.build_profile = "debug".into();
        let table = crate::render_table(&run.results);
        assert!(table.contains("DEBUG BUILD"), "{table}");
        assert!(crate::render_markdown(&run.results).contains("DEBUG BUILD"));
        let html = crate::render_html(std::slice::from_ref(&run)).unwrap();
        assert!(html.contains("DEBUG build") && html.contains("DEBUG BUILD"));
        run.results.environment.build_profile = "release".into();
        assert!(!crate::render_table(&run.results).contains("DEBUG"));
    }
}
