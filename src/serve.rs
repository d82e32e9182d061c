//! `rtbench serve`: all transports on loopback until Ctrl-C or SIGTERM. Prints one JSON line with
//! its addresses on stdout (for `rtbench run` and scripts), and a readable line on stderr.

use crate::cli::ServeArgs;
use crate::placement;
use anyhow::{Context, bail};
use rtbench_proto::control::{ListeningLine, ScheduleRequest};
use rtbench_proto::limits::DEFAULT_LISTEN_BACKLOG;
use rtbench_proto::limits::MAX_SCHEDULED_EVENTS;
use rtbench_proto::{ServerFault, ServerSettings};
use rtbench_server::{Listeners, Server, shutdown_signal, start_publisher};
use std::io::Write;

/// Logs to stderr, filtered by `RUST_LOG` (default: warnings), so refusals and limit hits are
/// seen; the server rate-limits those lines itself.
fn install_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The server settings `args` give: `--settings-json` when set, else the settings flags.
pub fn settings(args: &ServeArgs) -> anyhow::Result<ServerSettings> {
    if args.tuning.http_engine.len() > 1 {
        bail!(
            "--http-engine: a server runs one engine (stock or lean); `rtbench run` takes a list"
        );
    }
    let settings = match &args.settings_json {
        Some(json) => serde_json::from_str(json).context("--settings-json")?,
        None => ServerSettings {
            ring_capacity: args.ring_capacity,
            max_topics: args.max_topics,
            fault_endpoints: args.fault_endpoints,
            fault: ServerFault {
                delay_us: args.fault_delay_us,
                pad_bytes: args.fault_pad_bytes as usize,
            },
            limits: args.limits.to_limits(),
            tls: args.tls.to_setting(),
            cors_origins: cors_origins(&args.cors_origins),
            ..args.tuning.to_config()
        },
    };
    rtbench_server::cors::OriginList::parse(&settings.cors_origins)?;
    if settings.ring_capacity == 0 {
        bail!("--ring-capacity must be at least 1");
    }
    if settings.max_topics == 0 {
        bail!("--max-topics must be at least 1");
    }
    settings.validate()?;
    Ok(settings)
}

/// The listen backlog: the kernel's cap on it (`net.core.somaxconn`), so a burst of connects
/// (thousands of clients connecting at once) is queued rather than dropped;
/// [`DEFAULT_LISTEN_BACKLOG`] when it cannot be read. tokio's own default is 1,024.
fn listen_backlog() -> u32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_LISTEN_BACKLOG)
}

/// A listener on `addr` with `backlog`, `SO_REUSEADDR` set as tokio's `TcpListener::bind` sets
/// it (a restarted server rebinds its addresses at once).
/// `reuse_port` sets `SO_REUSEPORT` too: the processes of a cluster share the port.
fn listen(
    addr: std::net::SocketAddr,
    backlog: u32,
    reuse_port: bool,
) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(reuse_port)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Connects `server` to `--broker`, if given; a cluster member also serves its private control
/// port (on loopback, ephemeral), which the broker's member list names for its peers.
async fn join_broker(
    server: &Server,
    cluster: &crate::cluster_args::ClusterArgs,
) -> anyhow::Result<()> {
    let private = match cluster.member_index {
        Some(_) => Some(
            tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .context("the member's private control port")?,
        ),
        None => None,
    };
    let addr = private.as_ref().map(|l| l.local_addr()).transpose()?;
    let Some(config) = crate::serve_cluster::broker_config(cluster, addr) else {
        return Ok(());
    };
    rtbench_server::attach_broker(server, config).await?;
    if let Some(listener) = private {
        rtbench_server::serve_control(server, listener);
    }
    Ok(())
}

/// The `--cors-origin` list: the loopback defaults when none is given.
fn cors_origins(given: &[String]) -> Vec<String> {
    match given {
        [] => rtbench_proto::settings::default_cors_origins(),
        _ => given.to_vec(),
    }
}

/// Runs the command.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = settings(&args)?;
    install_logging();
    if args.cluster.procs > 1 {
        let json = serde_json::to_string(&settings)?;
        return crate::serve_cluster::supervise(&args, &json);
    }
    crate::rlimit::raise_open_files_limit();
    if let Some(budget) = args.cluster.fd_budget {
        crate::serve_cluster::apply_fd_budget(budget)?;
    }
    placement::pin_current_thread(&args.cpus)?;
    let workers = if args.cpus.is_empty() {
        placement::allowed_cpus().len()
    } else {
        args.cpus.len()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    runtime.block_on(async move {
        let backlog = listen_backlog();
        let reuse = args.cluster.reuse_port;
        let http = listen(args.addr, backlog, reuse)
            .with_context(|| format!("cannot listen on --addr {}", args.addr))?;
        let tcp = listen(args.tcp_addr, backlog, reuse)
            .with_context(|| format!("cannot listen on --tcp-addr {}", args.tcp_addr))?;
        let line = ListeningLine {
            http: http.local_addr()?.to_string(),
            tcp: tcp.local_addr()?.to_string(),
            pid: std::process::id(),
            tls_cert_pem: None,
        };
        let fault = settings.fault;
        if !fault.is_off() {
            eprintln!("rtbench serve: FAULT INJECTION ON ({fault:?}): not a real measurement");
        }
        let server = Server::try_new(settings)
            .context("setting up TLS")?
            .with_allocator(crate::ALLOCATOR);
        let line = ListeningLine {
            tls_cert_pem: server.tls_cert_pem().map(str::to_string),
            ..line
        };
        join_broker(&server, &args.cluster).await?;
        if let (Some(topic), Some(rate)) = (args.publish_topic, args.publish_rate) {
            let events = ((rate * 86_400.0).ceil() as u64).clamp(1, MAX_SCHEDULED_EVENTS);
            let request = ScheduleRequest {
                topic: topic.clone(),
                rate_per_s: rate,
                payload_bytes: args.publish_payload,
                events,
                start_in_ms: 0,
            };
            start_publisher(&server, request)
                .map_err(|e| anyhow::anyhow!("demo publisher: {e}"))?;
            eprintln!("publishing {rate} events/s to topic '{topic}'");
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", serde_json::to_string(&line)?)?;
        stdout.flush()?;
        drop(stdout);
        if !args.quiet {
            eprintln!(
                "rtbench serve: {}://{} (live page at /, try /sse?topic=demo, /metrics), raw tcp {}; Ctrl-C to stop",
                if line.tls_cert_pem.is_some() { "https" } else { "http" },
                line.http,
                line.tcp
            );
        }
        server
            .run(Listeners { http, tcp }, shutdown_signal())
            .await
            .context("serving")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use rtbench_proto::{HttpEngine, ServerLimits};

    fn serve_args(flags: &[&str]) -> ServeArgs {
        let argv = ["rtbench", "serve"].iter().chain(flags);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Serve(args) => *args,
            _ => unreachable!("a serve command line"),
        }
    }

    #[test]
    fn flags_and_settings_json_build_the_same_settings() {
        let from_flags = settings(&serve_args(&[
            "--ring-capacity=9",
            "--max-topics=3",
            "--ws-read-buffer=4096",
            "--http-writev=false",
            "--http-engine=lean",
            "--fault-endpoints",
            "--fault-pad-bytes=2",
        ]))
        .unwrap();
        let expected = ServerSettings {
            ring_capacity: 9,
            max_topics: 3,
            ws_read_buffer_bytes: 4096,
            http_writev: false,
            http_engine: HttpEngine::Lean,
            fault_endpoints: true,
            fault: ServerFault {
                delay_us: 0,
                pad_bytes: 2,
            },
            ..ServerSettings::default()
        };
        assert_eq!(from_flags, expected);
        let json = serde_json::to_string(&expected).unwrap();
        let from_json = settings(&serve_args(&["--settings-json", &json])).unwrap();
        assert_eq!(from_json, expected);
    }

    #[test]
    fn with_no_flags_serve_runs_the_stock_engine_and_hyper_still_names_it() {
        let plain = settings(&serve_args(&[])).unwrap();
        assert_eq!(plain.http_engine, HttpEngine::Stock);
        assert_eq!(plain, ServerSettings::default());
        let old_name = settings(&serve_args(&["--http-engine=hyper"])).unwrap();
        assert_eq!(old_name.http_engine, HttpEngine::Stock);
        let lean = settings(&serve_args(&["--http-engine=lean"])).unwrap();
        assert_eq!(lean.http_engine, HttpEngine::Lean);
        assert!(serve_args_fail(&["--http-engine=nginx"]));
        assert!(settings(&serve_args(&["--http-engine=stock,lean"])).is_err());
    }

    fn serve_args_fail(flags: &[&str]) -> bool {
        let argv = ["rtbench", "serve"].iter().chain(flags);
        crate::cli::Cli::try_parse_from(argv).is_err()
    }

    #[test]
    fn bad_settings_are_refused_either_way() {
        assert!(settings(&serve_args(&["--http-max-buf=100"])).is_err());
        let bad = ServerSettings {
            max_topics: 0,
            ..ServerSettings::default()
        };
        let json = serde_json::to_string(&bad).unwrap();
        assert!(settings(&serve_args(&["--settings-json", &json])).is_err());
        assert!(settings(&serve_args(&["--settings-json", "{}"])).is_err());
        assert!(settings(&serve_args(&["--max-connections=0"])).is_err());
        assert!(settings(&serve_args(&["--control-token="])).is_err());
        assert!(settings(&serve_args(&["--cors-origin=localhost"])).is_err());
    }

    #[test]
    fn cors_origins_default_to_loopback_and_the_flag_replaces_them() {
        let defaults = settings(&serve_args(&[])).unwrap().cors_origins;
        assert_eq!(defaults, rtbench_proto::settings::default_cors_origins());
        let given = settings(&serve_args(&[
            "--cors-origin=https://a.example:8443,http://b.example",
            "--cors-origin=*",
        ]))
        .unwrap()
        .cors_origins;
        assert_eq!(given, ["https://a.example:8443", "http://b.example", "*"]);
    }

    #[test]
    fn limit_flags_default_to_the_settings_defaults_and_set_every_limit() {
        assert_eq!(
            settings(&serve_args(&[])).unwrap().limits,
            ServerLimits::default()
        );
        let limits = settings(&serve_args(&[
            "--ring-bytes=1000",
            "--batch-bytes=2000",
            "--ws-max-write-buffer=400000",
            "--max-connections=64",
            "--header-read-timeout=500ms",
            "--idle-timeout=2s",
            "--publish-rate-limit=7",
            "--topic-publish-rate-limit=8",
            "--topic-idle-ttl=0s",
            "--max-publishers=3",
            "--max-head-bytes=4096",
            "--control-token=t",
        ]))
        .unwrap()
        .limits;
        let expected = ServerLimits {
            ring_bytes: 1000,
            batch_bytes: 2000,
            ws_max_write_buffer_bytes: 400_000,
            max_connections: 64,
            header_read_timeout_ms: 500,
            idle_timeout_ms: 2000,
            publish_rate_per_conn: 7,
            publish_rate_per_topic: 8,
            topic_idle_ttl_ms: 0,
            max_publishers: 3,
            max_head_bytes: 4096,
            control_token: Some("t".into()),
        };
        assert_eq!(limits, expected);
    }

    #[test]
    fn tls_flags_pick_a_generated_certificate_or_the_files() {
        use rtbench_proto::TlsSetting;
        let tls = |flags: &[&str]| settings(&serve_args(flags)).unwrap().tls;
        assert_eq!(tls(&[]), TlsSetting::Off);
        assert_eq!(tls(&["--tls"]), TlsSetting::SelfSigned);
        let files = TlsSetting::Files {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        assert_eq!(tls(&["--cert=c.pem", "--key=k.pem"]), files);
        assert_eq!(tls(&["--tls", "--cert=c.pem", "--key=k.pem"]), files);
        let argv = ["rtbench", "serve", "--cert=c.pem"];
        assert!(
            crate::cli::Cli::try_parse_from(argv).is_err(),
            "a certificate needs its key"
        );
    }
}
