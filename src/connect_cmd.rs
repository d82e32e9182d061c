//! `rtbench run --scenario connect-storm [--clients N] [--stack h1,h1-tls]`: the cost of a new
//! connection on each stack ([`rtbench_loadgen::connect_storm`]). N clients (default
//! [`DEFAULT_CLIENTS`]) connect and subscribe at once to a fresh server child; on a TLS stack the
//! same clients then reconnect at once, resuming their TLS sessions. Prints a table and writes
//! `connect-storm.json` to the stack's output directory.

use crate::cli::RunArgs;
use crate::output::{loadgen_runtime, prepare_out};
use crate::placement::{self, Plan};
use crate::server_child::{ServerChild, ServerSpec};
use anyhow::{Context, bail};
use rtbench_loadgen::Control;
use rtbench_loadgen::connect_storm::{MAX_CLIENTS, StormRow, storms};

/// The scenario's name on the command line.
pub const SCENARIO: &str = "connect-storm";
/// Clients per storm when `--clients` is not given.
pub const DEFAULT_CLIENTS: u64 = 1_000;

/// Runs the connect storm on the one stack of `args`.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let clients = args.clients.unwrap_or(DEFAULT_CLIENTS);
    if clients == 0 || clients > MAX_CLIENTS {
        bail!("--clients for the connect storm: 1 to {MAX_CLIENTS}, got {clients}");
    }
    if args.server_http.is_some() {
        bail!("the connect storm starts its own server (its CPU and memory are measured)");
    }
    prepare_out(&args.out)?;
    let limit = crate::rlimit::raise_open_files_limit();
    if limit < clients + 256 {
        bail!(
            "{clients} clients need {} open files, this process may open {limit}",
            clients + 256
        );
    }
    crate::environment::warn_if_debug_build();
    let plan = Plan::choose(&placement::allowed_cpus(), !args.no_pin, args.server_cpus)?;
    let runtime = loadgen_runtime(&plan)?;
    let cert = crate::stacks::server_cert(&args)?;
    let spec = ServerSpec {
        cpus: plan.server.clone(),
        fault_endpoints: false,
        tuning: args.server.clone(),
        max_topics: rtbench_proto::ServerSettings::default().max_topics,
        fault: Default::default(),
        quiet: true,
        tls: cert.setting(),
        control_token: None,
        cluster: None,
    };
    let child = ServerChild::start(&spec)?;
    let control = Control::new(&child.target)?;
    let rows = runtime.block_on(storms(clients, &child.target, &control))?;
    drop(child);
    let stack = crate::stacks::stack(&args);
    print!("{}", table(&stack.to_string(), &rows));
    let path = args.out.join("connect-storm.json");
    let json = serde_json::json!({ "stack": stack, "clients": clients, "storms": rows });
    std::fs::write(&path, serde_json::to_string_pretty(&json)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// The storms as a Markdown-compatible table.
pub fn table(stack: &str, rows: &[StormRow]) -> String {
    let mut out = format!(
        "stack {stack} · connect storm\n| storm | connections | TLS resumed | B/conn | server CPU µs/conn | server RSS/conn | connect p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for r in rows {
        let l = &r.connect_latency_us;
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {:.1} KiB | {:.2} ms | {:.2} ms | {:.2} ms |\n",
            r.kind,
            r.connections,
            r.resumed,
            r.bytes_per_connection,
            r.server_cpu_us_per_connection,
            r.memory_per_connection_bytes / 1_024.0,
            l.p50 / 1e3,
            l.p99 / 1e3,
            l.max / 1e3
        ));
    }
    out
}
