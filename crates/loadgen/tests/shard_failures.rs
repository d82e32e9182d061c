//! A load-generator shard that fails, or exits without answering, fails the phase with one line
//! naming it. The shards here are tiny shell scripts standing in for `rtbench shard`; nothing
//! reaches a server.

use rtbench_loadgen::shard::SpawnShard;
use rtbench_loadgen::{Control, LoadConfig, LoadError, Target, run_transport};
use rtbench_proto::Transport;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Starts every shard as `sh -c` of a script in which `$spec` is the shard's spec line; shard 1
/// runs the script given, the others wait to be killed.
#[derive(Debug)]
struct Script(&'static str);

/// The script of every shard: `first` for shard 1.
fn script(first: &str) -> String {
    format!(r#"read spec; case "$spec" in *'"shard":1,'*) {first};; *) exec sleep 60;; esac"#)
}

impl SpawnShard for Script {
    fn cpus(&self) -> Vec<usize> {
        Vec::new()
    }

    fn spawn(&self) -> std::io::Result<Child> {
        Command::new("sh")
            .args(["-c", &script(self.0)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
    }
}

async fn phase_with(script: &'static str) -> LoadError {
    // Nothing listens here; the phase fails before anything would connect to it.
    let target = Target::plain(
        "127.0.0.1:9".parse().unwrap(),
        "127.0.0.1:9".parse().unwrap(),
    );
    let control = Control::new(&target)
        .unwrap()
        .with_shard_spawner(Arc::new(Script(script)));
    let config = LoadConfig {
        clients: 4,
        loadgen_procs: 2,
        connect_timeout: Duration::from_secs(5),
        ..LoadConfig::default()
    };
    run_transport(Transport::Sse, &config, &target, &control)
        .await
        .expect_err("shard 1 fails")
}

#[tokio::test]
async fn a_failing_shard_fails_the_phase_naming_it() {
    let e = phase_with(r#"echo '{"failed":{"error":"boom"}}'"#).await;
    assert_eq!(e.to_string(), "load-generator shard 1 of 2: boom");
}

#[tokio::test]
async fn a_shard_that_exits_without_answering_fails_the_phase() {
    let e = phase_with("exit 3").await.to_string();
    assert!(
        e.starts_with("load-generator shard 1 of 2: exited without answering (exit status: 3)"),
        "{e}"
    );
}

#[tokio::test]
async fn a_shard_that_answers_nonsense_fails_the_phase() {
    let e = phase_with("echo hello").await.to_string();
    assert!(e.contains("unreadable answer"), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");
}

#[tokio::test]
async fn without_a_way_to_start_shards_the_phase_is_refused() {
    let target = Target::plain(
        "127.0.0.1:9".parse().unwrap(),
        "127.0.0.1:9".parse().unwrap(),
    );
    let config = LoadConfig {
        clients: 4,
        loadgen_procs: 2,
        ..LoadConfig::default()
    };
    let e = run_transport(
        Transport::Sse,
        &config,
        &target,
        &Control::new(&target).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("--loadgen-procs above 1 needs"),
        "{e}"
    );
}
