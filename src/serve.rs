//! `rtbench serve`: all transports on loopback until Ctrl-C or SIGTERM. Prints one JSON line with
//! its addresses on stdout (for `rtbench run` and scripts), and a readable line on stderr.

use crate::cli::ServeArgs;
use crate::placement;
use anyhow::{Context, bail};
use clap::Args;
use rtbench_proto::control::{ListeningLine, ScheduleRequest};
use rtbench_proto::limits::MAX_SCHEDULED_EVENTS;
use rtbench_proto::{ServerFault, ServerLimits, ServerSettings};
use rtbench_server::{Listeners, Server, shutdown_signal, start_publisher};
use std::io::Write;
use std::time::Duration;

/// The server's limits against hostile clients (`docs/limits.md`): what one connection, topic or
/// request may cost. The defaults never bind a normal `rtbench run`.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Bytes of event bodies each topic's ring keeps (with --ring-capacity events); the oldest
    /// leave first and a reader behind them gets a gap notice.
    #[arg(long, default_value_t = ServerLimits::default().ring_bytes)]
    pub ring_bytes: usize,
    /// Bytes of events one connection takes from a ring per write or poll answer (at least one).
    #[arg(long, default_value_t = ServerLimits::default().batch_bytes)]
    pub batch_bytes: usize,
    /// Most bytes a WebSocket may queue for a client that does not read.
    #[arg(long, default_value_t = ServerLimits::default().ws_max_write_buffer_bytes)]
    pub ws_max_write_buffer: usize,
    /// Most connections open at once (both listeners); more get 503 (HTTP) or are closed (TCP).
    #[arg(long, default_value_t = ServerLimits::default().max_connections)]
    pub max_connections: usize,
    /// Longest a client may take to send a request head (HTTP) or its SUB frame (raw TCP).
    #[arg(long, value_parser = duration, default_value = "10s")]
    pub header_read_timeout: Duration,
    /// Longest an HTTP connection may stay open with no request in progress.
    #[arg(long, value_parser = duration, default_value = "60s")]
    pub idle_timeout: Duration,
    /// Most events one connection may publish per second; a faster one is slowed, not refused.
    #[arg(long, default_value_t = ServerLimits::default().publish_rate_per_conn)]
    pub publish_rate_limit: u64,
    /// Most events clients together may publish to one topic per second (scheduled publishers
    /// are not counted).
    #[arg(long, default_value_t = ServerLimits::default().publish_rate_per_topic)]
    pub topic_publish_rate_limit: u64,
    /// Free a topic nobody has used (no subscriber, publisher, publish or read) for this long;
    /// 0 never frees topics.
    #[arg(long, value_parser = duration, default_value = "5m")]
    pub topic_idle_ttl: Duration,
    /// Most scheduled publishers (/schedule, /plan, /schedule/resume) running at once.
    #[arg(long, default_value_t = ServerLimits::default().max_publishers)]
    pub max_publishers: usize,
    /// Longest request head accepted, in bytes; a longer one gets 431.
    #[arg(long, default_value_t = ServerLimits::default().max_head_bytes)]
    pub max_head_bytes: usize,
    /// Require 'Authorization: Bearer TOKEN' on the control endpoints (/schedule, /plan,
    /// /schedule/resume, /faults/*). Without it they answer on a loopback address only.
    #[arg(long)]
    pub control_token: Option<String>,
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 500ms, 10s, 5m)"))
}

/// Milliseconds of `d`, saturating.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl LimitArgs {
    /// The limits these flags give.
    pub fn to_limits(&self) -> ServerLimits {
        ServerLimits {
            ring_bytes: self.ring_bytes,
            batch_bytes: self.batch_bytes,
            ws_max_write_buffer_bytes: self.ws_max_write_buffer,
            max_connections: self.max_connections,
            header_read_timeout_ms: ms(self.header_read_timeout),
            idle_timeout_ms: ms(self.idle_timeout),
            publish_rate_per_conn: self.publish_rate_limit,
            publish_rate_per_topic: self.topic_publish_rate_limit,
            topic_idle_ttl_ms: ms(self.topic_idle_ttl),
            max_publishers: self.max_publishers,
            max_head_bytes: self.max_head_bytes,
            control_token: self.control_token.clone(),
        }
    }
}

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
            ..args.tuning.to_config()
        },
    };
    if settings.ring_capacity == 0 {
        bail!("--ring-capacity must be at least 1");
    }
    if settings.max_topics == 0 {
        bail!("--max-topics must be at least 1");
    }
    settings.validate()?;
    Ok(settings)
}

/// Runs the command.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = settings(&args)?;
    install_logging();
    crate::rlimit::raise_open_files_limit();
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
        let http = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on --addr {}", args.addr))?;
        let tcp = tokio::net::TcpListener::bind(args.tcp_addr)
            .await
            .with_context(|| format!("cannot listen on --tcp-addr {}", args.tcp_addr))?;
        let line = ListeningLine {
            http: http.local_addr()?.to_string(),
            tcp: tcp.local_addr()?.to_string(),
            pid: std::process::id(),
        };
        let fault = settings.fault;
        if !fault.is_off() {
            eprintln!("rtbench serve: FAULT INJECTION ON ({fault:?}): not a real measurement");
        }
        let server = Server::new(settings).with_allocator(crate::ALLOCATOR);
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
                "rtbench serve: http://{} (try /sse?topic=demo, /metrics), raw tcp {}; Ctrl-C to stop",
                line.http, line.tcp
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
    use rtbench_proto::HttpEngine;

    fn serve_args(flags: &[&str]) -> ServeArgs {
        let argv = ["rtbench", "serve"].iter().chain(flags);
        match crate::cli::Cli::try_parse_from(argv).unwrap().command {
            crate::cli::Command::Serve(args) => args,
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
            "--http-engine=hyper",
            "--fault-endpoints",
            "--fault-pad-bytes=2",
        ]))
        .unwrap();
        let expected = ServerSettings {
            ring_capacity: 9,
            max_topics: 3,
            ws_read_buffer_bytes: 4096,
            http_writev: false,
            http_engine: HttpEngine::Hyper,
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
}
