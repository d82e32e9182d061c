//! `rtbench run --stack h1,h1-tls --http-engine stock,lean`: the protocol stack and the server's
//! engine as dimensions (`docs/stacks.md`). Each pair is a run of its own — its own server child
//! (TLS on or off, stock or lean), its own table, its own results directory (`<out>/<label>/`,
//! e.g. `h1` or `h1-lean`, when more than one is asked for) — recorded in the results
//! (`config.stack`, and the server's `settings.tls` and `settings.http_engine`). After the last,
//! the combined report — each one's tables and the stack section side by side — is written at
//! `<out>/`.
//!
//! On a TLS stack, `rtbench run` generates one self-signed certificate (rcgen) for the whole run
//! and hands it to its server child as PEM files in a private temporary directory, so a server
//! restarted mid-run (`--restart-server-at`) presents the same certificate; the load generator
//! trusts exactly the certificate the child announces on its listening line, nothing else.

use crate::cli::RunArgs;
use crate::sweep_arg::RunSweep;
use anyhow::{Context, bail};
use rtbench_proto::{HttpEngine, Stack, TlsSetting, Transport};
use rtbench_results::Row;
use std::path::PathBuf;

/// `args` with a `--sweep stack=…` axis moved into its stacks; an error when `--stack` names
/// other stacks too, or two stack axes are given.
fn stack_sweep(mut args: RunArgs) -> anyhow::Result<RunArgs> {
    let axes: Vec<Vec<Stack>> = args
        .sweep
        .iter()
        .filter_map(|s| match s {
            RunSweep::Stack(stacks) => Some(stacks.clone()),
            RunSweep::Knob(_) => None,
        })
        .collect();
    match &axes[..] {
        [] => return Ok(args),
        [stacks] => {
            if args.stack != [Stack::default()] && args.stack != *stacks {
                bail!("give the stacks once: --stack or --sweep stack=…, not both");
            }
            args.stack = stacks.clone();
        }
        _ => bail!("--sweep stack=… given twice"),
    }
    args.sweep.retain(|s| matches!(s, RunSweep::Knob(_)));
    Ok(args)
}

/// The one stack a per-stack run measures (the default when none was given).
pub fn stack(args: &RunArgs) -> Stack {
    args.stack.first().copied().unwrap_or_default()
}

/// The name of one measured stack-and-engine pair: the stack's name, with `-lean` on the lean
/// engine (`h1`, `h1-lean`, `h1-tls-lean`): its output directory when a run measures several.
pub fn label(stack: Stack, engine: HttpEngine) -> String {
    match engine {
        HttpEngine::Stock => stack.as_str().to_string(),
        HttpEngine::Lean => format!("{stack}-lean"),
    }
}

/// Runs `run_one` once per stack of `args` and per engine (`--http-engine stock,lean`), each
/// with that stack and engine alone and, when there are several, its own output directory
/// `<out>/<label>` ([`label`]).
pub fn run_each(
    args: RunArgs,
    run_one: impl Fn(RunArgs) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let args = stack_sweep(args)?;
    let engines = args.server.http_engine.clone();
    if engines.len() > 1 && args.server_http.is_some() {
        bail!(
            "--http-engine with several engines needs rtbench to start its server (not --server-http)"
        );
    }
    if args.stack.len() <= 1 && engines.len() <= 1 {
        return run_one(args);
    }
    // A run pins this thread to the load generator's cores; each stack must choose its placement
    // from every core again.
    let allowed = crate::placement::allowed_cpus();
    for &stack in &args.stack {
        for &engine in &engines {
            let name = label(stack, engine);
            if !args.quiet {
                eprintln!("stack {stack}, engine {engine}");
            }
            let mut one = args.clone();
            one.stack = vec![stack];
            one.server.http_engine = vec![engine];
            one.out = args.out.join(&name);
            run_one(one).with_context(|| format!("stack {stack}, engine {engine}"))?;
            crate::placement::pin_current_thread(&allowed)?;
        }
    }
    let names: Vec<String> = args
        .stack
        .iter()
        .flat_map(|&stack| engines.iter().map(move |&engine| label(stack, engine)))
        .collect();
    crate::report_cmd::write_combined(&args.out, &names)
}

/// The server certificate of one per-stack run: where its PEM files are (removed when dropped)
/// and the TLS setting that names them; `Off` on a plaintext stack.
#[derive(Debug)]
pub struct ServerCert {
    dir: Option<PathBuf>,
    setting: TlsSetting,
}

impl ServerCert {
    /// What the server child's settings say about TLS.
    pub fn setting(&self) -> TlsSetting {
        self.setting.clone()
    }
}

impl Drop for ServerCert {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The certificate the server child of `args`' stack serves: none on a plaintext stack, else a
/// new self-signed one written to a private temporary directory.
pub fn server_cert(args: &RunArgs) -> anyhow::Result<ServerCert> {
    if !stack(args).tls() {
        return Ok(ServerCert {
            dir: None,
            setting: TlsSetting::Off,
        });
    }
    if args.server_http.is_some() {
        bail!(
            "a TLS stack needs rtbench to start its server (trusting a --server-http server's certificate is not built yet)"
        );
    }
    let pem = rtbench_server::tls::CertPem::self_signed()?;
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rtbench-{}-tls-{n}", std::process::id()));
    write_private(&dir, &pem).with_context(|| format!("writing {}", dir.display()))?;
    let path = |name: &str| dir.join(name).display().to_string();
    Ok(ServerCert {
        setting: TlsSetting::Files {
            cert: path("cert.pem"),
            key: path("key.pem"),
        },
        dir: Some(dir),
    })
}

/// Writes `pem` into `dir` (created readable by its owner only).
fn write_private(dir: &std::path::Path, pem: &rtbench_server::tls::CertPem) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    for (name, text) in [("cert.pem", &pem.cert), ("key.pem", &pem.key)] {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(dir.join(name))?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
    }
    Ok(())
}

/// The note on an HTTP transport's row of an HTTP/2 stack: what its connections spoke (the
/// clients refuse a server that does not speak HTTP/2, so this is what they did speak).
pub fn http2_note(transport: Transport, stack: Stack) -> Option<&'static str> {
    if !stack.http2() || transport == Transport::FLOOR {
        return None;
    }
    if transport.is_beyond() {
        return Some("HTTP/1.1: the Socket.IO clients do not speak HTTP/2, on any stack");
    }
    Some(match (transport, stack.tls()) {
        (Transport::WebSocket, false) => {
            "WebSocket on an HTTP/2 stream (extended CONNECT, RFC 8441) of an h2c connection"
        }
        (Transport::WebSocket, true) => {
            "WebSocket on an HTTP/2 stream (extended CONNECT, RFC 8441) over TLS, ALPN h2"
        }
        (_, false) => "HTTP/2 cleartext (h2c, prior knowledge), one connection per client",
        (_, true) => "HTTP/2 over TLS (ALPN h2), one connection per client",
    })
}

/// Marks the rows of `stack`'s table with what they spoke: the HTTP transports' rows of an
/// HTTP/2 stack with their protocol ([`http2_note`]).
pub fn mark_stack_notes(rows: &mut [Row], stack: Stack) {
    for row in rows.iter_mut() {
        let note = http2_note(row.transport, stack).map(str::to_string);
        row.notes.extend(note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep_arg::knob_sweeps;
    use clap::Parser;

    #[test]
    fn rows_say_what_they_spoke_on_each_stack() {
        for t in Transport::ALL {
            assert_eq!(http2_note(t, Stack::H1), None, "{t}");
            assert_eq!(http2_note(t, Stack::H1Tls), None, "{t}");
            let want = match t {
                Transport::Tcp => None,
                t if t.is_beyond() => {
                    Some("HTTP/1.1: the Socket.IO clients do not speak HTTP/2, on any stack")
                }
                Transport::WebSocket => Some(
                    "WebSocket on an HTTP/2 stream (extended CONNECT, RFC 8441) over TLS, ALPN h2",
                ),
                _ => Some("HTTP/2 over TLS (ALPN h2), one connection per client"),
            };
            assert_eq!(http2_note(t, Stack::H2Tls), want, "{t}");
            assert_eq!(
                http2_note(t, Stack::H2).is_some(),
                t != Transport::Tcp,
                "{t}"
            );
        }
    }

    fn run_args(flags: &[&str]) -> Result<RunArgs, clap::Error> {
        let argv = ["rtbench", "run"].iter().chain(flags);
        match crate::cli::Cli::try_parse_from(argv)?.command {
            crate::cli::Command::Run(args) => Ok(*args),
            _ => unreachable!("a run command line"),
        }
    }

    #[test]
    fn every_stack_parses_and_each_gets_its_directory() {
        assert_eq!(run_args(&[]).unwrap().stack, [Stack::H1]);
        let args = run_args(&["--stack=h1,h1-tls", "--out=o"]).unwrap();
        assert_eq!(args.stack, [Stack::H1, Stack::H1Tls]);
        let all = run_args(&["--stack=h1,h1-tls,h2,h2-tls"]).unwrap();
        assert_eq!(all.stack, Stack::ALL);
        assert!(run_args(&["--stack=h3"]).is_err());
        let seen = std::sync::Mutex::new(Vec::new());
        run_each(args, |one| {
            seen.lock().unwrap().push((stack(&one), one.out.clone()));
            Ok(())
        })
        .unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(
            seen,
            [
                (Stack::H1, PathBuf::from("o/h1")),
                (Stack::H1Tls, PathBuf::from("o/h1-tls"))
            ]
        );
    }

    #[test]
    fn each_stack_runs_on_each_engine_asked_for_in_a_directory_of_its_own() {
        assert_eq!(
            run_args(&[]).unwrap().server.http_engine,
            [HttpEngine::Stock]
        );
        let args = run_args(&["--stack=h1,h1-tls", "--http-engine=stock,lean", "--out=o"]).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        run_each(args, |one| {
            let engine = one.server.engine();
            assert_eq!(one.server.http_engine, [engine], "one engine per run");
            seen.lock()
                .unwrap()
                .push((stack(&one), engine, one.out.clone()));
            Ok(())
        })
        .unwrap();
        let (stock, lean) = (HttpEngine::Stock, HttpEngine::Lean);
        assert_eq!(
            seen.into_inner().unwrap(),
            [
                (Stack::H1, stock, PathBuf::from("o/h1")),
                (Stack::H1, lean, PathBuf::from("o/h1-lean")),
                (Stack::H1Tls, stock, PathBuf::from("o/h1-tls")),
                (Stack::H1Tls, lean, PathBuf::from("o/h1-tls-lean")),
            ]
        );
        // One stack on both engines: two directories, too.
        let args = run_args(&["--http-engine=lean,stock", "--out=o"]).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        run_each(args, |one| {
            seen.lock().unwrap().push(one.out.clone());
            Ok(())
        })
        .unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen, [PathBuf::from("o/h1-lean"), PathBuf::from("o/h1")]);
    }

    #[test]
    fn the_stack_is_a_sweep_axis_that_runs_as_stack_does() {
        let args = run_args(&[
            "--sweep=stack=h1,h1-tls",
            "--sweep=clients=10,20",
            "--out=o",
        ])
        .unwrap();
        assert_eq!(
            args.sweep[0],
            RunSweep::Stack(vec![Stack::H1, Stack::H1Tls])
        );
        assert_eq!(args.sweep[0].to_string(), "stack=h1,h1-tls");
        assert_eq!(knob_sweeps(&args.sweep).len(), 1, "the knob axis stays");
        let seen = std::sync::Mutex::new(Vec::new());
        run_each(args, |one| {
            assert_eq!(one.sweep.len(), 1, "the stack axis is run, not swept again");
            seen.lock().unwrap().push(stack(&one));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.into_inner().unwrap(), [Stack::H1, Stack::H1Tls]);
        let err = run_args(&["--sweep=stack=h1,h3"]).unwrap_err().to_string();
        assert!(err.contains("unknown stack 'h3'"), "{err}");
        let both = run_args(&["--stack=h1-tls", "--sweep=stack=h1,h1-tls"]).unwrap();
        assert!(
            run_each(both, |_| Ok(())).is_err(),
            "the stacks are given once"
        );
    }

    #[test]
    fn a_tls_stack_gets_private_certificate_files_that_go_with_the_run() {
        let plain = server_cert(&run_args(&[]).unwrap()).unwrap();
        assert_eq!(plain.setting(), TlsSetting::Off);
        let cert = server_cert(&run_args(&["--stack=h1-tls"]).unwrap()).unwrap();
        let TlsSetting::Files {
            cert: cert_path,
            key,
        } = cert.setting()
        else {
            panic!("files expected: {:?}", cert.setting());
        };
        let pem = rtbench_server::tls::CertPem::read(&cert_path, &key).unwrap();
        let tls = rtbench_server::tls::ServerTls::from_pem(&pem, cert.setting());
        assert!(tls.is_ok(), "the files make a TLS config");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is the owner's alone");
        drop(cert);
        assert!(!std::path::Path::new(&key).exists(), "removed with the run");
        let external = run_args(&[
            "--stack=h1-tls",
            "--server-http=127.0.0.1:1",
            "--server-tcp=127.0.0.1:2",
        ])
        .unwrap();
        assert!(server_cert(&external).is_err());
    }
}
