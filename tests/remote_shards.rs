//! `rtbench run --remote-shards 3` with three `rtbench shard --coordinator` "hosts" on this
//! machine: each shard in its own network namespace, joined to the root namespace by a veth
//! pair (its own 10.x.i.2/24 address) and started under its own open-file budget (`prlimit`).
//! The coordinator and its server listen on the first veth's root-side address. The merged row
//! must deliver exactly what the three shards delivered, with no loss, and name each shard with
//! its clock offset. Every namespace and link is removed when the test ends, panic or not.
//! Skipped, saying why, when this process may not create network namespaces.

use rtbench_loadgen::shard::files::merge_files;
use rtbench_results::Results;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Runs `ip args`; its stderr when it fails.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// Network namespaces, each joined to the root namespace by a veth pair; removed on drop.
struct Hosts {
    /// Namespace names, shard 0 first.
    names: Vec<String>,
    /// The root side's addresses, `10.B.(i+1).1`; the namespace side is `.2`.
    prefix: String,
}

impl Hosts {
    /// `n` namespaces, or why they cannot be made here.
    fn create(n: usize) -> Result<Hosts, String> {
        let pid = std::process::id();
        let mut hosts = Hosts {
            names: Vec::new(),
            prefix: format!("10.{}", 100 + pid % 100),
        };
        for i in 0..n {
            let ns = format!("rtbsh{}n{i}", pid % 100_000);
            ip(&["netns", "add", &ns])?;
            hosts.names.push(ns.clone());
            let (root, inner) = (
                format!("rtv{}r{i}", pid % 100_000),
                format!("rtv{}n{i}", pid % 100_000),
            );
            let net = format!("{}.{}", hosts.prefix, i + 1);
            ip(&["link", "add", &root, "type", "veth", "peer", "name", &inner])?;
            ip(&["link", "set", &inner, "netns", &ns])?;
            ip(&["addr", "add", &format!("{net}.1/24"), "dev", &root])?;
            ip(&["link", "set", &root, "up"])?;
            let (addr, via) = (format!("{net}.2/24"), format!("{net}.1"));
            for cmd in [
                &["addr", "add", addr.as_str(), "dev", inner.as_str()][..],
                &["link", "set", inner.as_str(), "up"],
                &["link", "set", "lo", "up"],
                &["route", "add", "default", "via", via.as_str()],
            ] {
                let mut args = vec!["netns", "exec", ns.as_str(), "ip"];
                args.extend_from_slice(cmd);
                ip(&args)?;
            }
        }
        Ok(hosts)
    }

    /// The root side's address on shard 0's link: where the coordinator and server listen.
    fn root_addr(&self) -> String {
        format!("{}.1.1", self.prefix)
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        // Deleting a namespace deletes its veth end, and with it the root side's.
        for ns in &self.names {
            let _ = ip(&["netns", "del", ns]);
        }
    }
}

/// A child killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Shard `i` in namespace `ns`, with an open-file budget of 2,048.
fn shard(ns: &str, coordinator: &str, i: usize, log: &Path) -> Killed {
    let log = std::fs::File::create(log).unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", ns, "prlimit", "--nofile=2048:2048"])
        .arg(env!("CARGO_BIN_EXE_rtbench"))
        .args([
            "shard",
            "--coordinator",
            coordinator,
            "--connect-wait-s",
            "60",
        ])
        .env("JOB_COMPLETION_INDEX", i.to_string())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("ip netns exec runs");
    Killed(child)
}

/// The shard result files the coordinator kept in `out`.
fn shard_files(out: &Path, transport: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.contains(&format!("-{transport}"))
                && name.contains(".shard")
                && name.ends_with(".json")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn three_shards_in_namespaces_merge_into_one_lossless_row() {
    let hosts = match Hosts::create(3) {
        Ok(hosts) => hosts,
        Err(why) => {
            println!("skipped: network namespaces are not permitted here ({why})");
            return;
        }
    };
    let dir = std::env::temp_dir().join(format!("rtbench-remote-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out");
    let port = 40_000 + std::process::id() % 20_000;
    let listen = format!("{}:{port}", hosts.root_addr());
    let coordinator = Command::new(env!("CARGO_BIN_EXE_rtbench"))
        .args([
            "run",
            "--quiet",
            "--clients",
            "60",
            "--rate",
            "10",
            "--warmup",
            "300ms",
        ])
        .args([
            "--window",
            "1s",
            "--tail",
            "100ms",
            "--transports",
            "websocket,sse",
        ])
        .args([
            "--remote-shards",
            "3",
            "--shard-listen",
            &listen,
            "--shard-wait-s",
            "60",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let shards: Vec<Killed> = (0..3)
        .map(|i| {
            shard(
                &hosts.names[i],
                &listen,
                i,
                &dir.join(format!("shard{i}.log")),
            )
        })
        .collect();
    let done = coordinator.wait_with_output().unwrap();
    drop(shards);
    let stderr = String::from_utf8_lossy(&done.stderr);
    let logs: Vec<String> = (0..3)
        .map(|i| std::fs::read_to_string(dir.join(format!("shard{i}.log"))).unwrap_or_default())
        .collect();
    assert!(
        done.status.success(),
        "coordinator: {stderr}\nshards: {logs:?}"
    );
    let results = Results::load(&out.join("results.json")).unwrap();
    for row in results
        .rows
        .iter()
        .filter(|r| r.transport.as_str() != "tcp")
    {
        let t = row.transport.as_str();
        assert_eq!((row.lost, row.duplicated, row.reordered), (0, 0, 0), "{t}");
        let files = shard_files(&out, t);
        assert_eq!(files.len(), 3, "{t}: {files:?}");
        let merged = merge_files(&files).unwrap();
        assert_eq!(
            row.deliveries, merged.window_deliveries,
            "{t}: the sum of the shards'"
        );
        assert_eq!(row.latency_histogram, merged.window_histogram, "{t}");
        assert_eq!(
            row.deliveries,
            60 * 10,
            "{t}: 60 clients, 10 events in the window"
        );
        let hosts_seen: Vec<String> = row.shards.iter().map(|s| s.host.clone()).collect();
        for i in 0..3 {
            let addr = format!("({}.{}.2)", hosts.prefix, i + 1);
            assert!(
                hosts_seen[i].ends_with(&addr),
                "{t}: shard {i} is {hosts_seen:?}"
            );
            assert_eq!(row.shards[i].index, i as u32);
        }
        assert!(row.latency_us.uncertainty_us.is_some(), "{t}");
        assert!(
            row.notes.iter().any(|n| n.contains("shards 0 on")),
            "{t}: {:?}",
            row.notes
        );
    }
    assert!(results.rows.iter().any(|r| r.transport.as_str() == "sse"));
    let _ = std::fs::remove_dir_all(&dir);
}
