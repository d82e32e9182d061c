//! `rtbench run --stack h1,h1-tls`: the protocol stack as a dimension (`docs/stacks.md`). Each
//! stack is a run of its own — its own server child (TLS on or off), its own table, its own
//! results directory (`<out>/<stack>/` when more than one stack is asked for) — recorded in the
//! results (`config.stack`, and the server's `settings.tls`). After the last stack, the combined
//! report — each stack's tables and the stack section side by side — is written at `<out>/`.
//!
//! On a TLS stack, `rtbench run` generates one self-signed certificate (rcgen) for the whole run
//! and hands it to its server child as PEM files in a private temporary directory, so a server
//! restarted mid-run (`--restart-server-at`) presents the same certificate; the load generator
//! trusts exactly the certificate the child announces on its listening line, nothing else.

use crate::cli::RunArgs;
use crate::sweep_arg::RunSweep;
use anyhow::{Context, bail};
use rtbench_proto::{Stack, TlsSetting, Transport};
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

/// The note on the raw-TCP floor's row in a TLS stack's table.
pub const PLAINTEXT_FLOOR_NOTE: &str = "plaintext floor: the raw-TCP floor has no TLS yet, so its bytes and latency are plaintext TCP's";

/// The one stack a per-stack run measures (the default when none was given).
pub fn stack(args: &RunArgs) -> Stack {
    args.stack.first().copied().unwrap_or_default()
}

/// Runs `run_one` once per stack of `args`, each with that stack alone and, when there are
/// several, its own output directory `<out>/<stack>`.
pub fn run_each(
    args: RunArgs,
    run_one: impl Fn(RunArgs) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let args = stack_sweep(args)?;
    if args.stack.len() <= 1 {
        return run_one(args);
    }
    // A run pins this thread to the load generator's cores; each stack must choose its placement
    // from every core again.
    let allowed = crate::placement::allowed_cpus();
    for &stack in &args.stack {
        if !args.quiet {
            eprintln!("stack {stack}");
        }
        let mut one = args.clone();
        one.stack = vec![stack];
        one.out = args.out.join(stack.as_str());
        run_one(one).with_context(|| format!("stack {stack}"))?;
        crate::placement::pin_current_thread(&allowed)?;
    }
    let names: Vec<String> = args.stack.iter().map(|s| s.to_string()).collect();
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

/// Marks the raw-TCP floor's rows of a TLS stack's table as the plaintext floor they are.
pub fn mark_plaintext_floor(rows: &mut [Row], stack: Stack) {
    if !stack.tls() {
        return;
    }
    for row in rows.iter_mut().filter(|r| r.transport == Transport::FLOOR) {
        row.notes.push(PLAINTEXT_FLOOR_NOTE.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep_arg::knob_sweeps;
    use clap::Parser;

    fn run_args(flags: &[&str]) -> Result<RunArgs, clap::Error> {
        let argv = ["rtbench", "run"].iter().chain(flags);
        match crate::cli::Cli::try_parse_from(argv)?.command {
            crate::cli::Command::Run(args) => Ok(*args),
            _ => unreachable!("a run command line"),
        }
    }

    #[test]
    fn stacks_parse_the_unbuilt_ones_are_refused_and_each_gets_its_directory() {
        assert_eq!(run_args(&[]).unwrap().stack, [Stack::H1]);
        let args = run_args(&["--stack=h1,h1-tls", "--out=o"]).unwrap();
        assert_eq!(args.stack, [Stack::H1, Stack::H1Tls]);
        let err = run_args(&["--stack=h1,h2-tls"]).unwrap_err().to_string();
        assert!(err.contains("stack h2-tls is not built yet"), "{err}");
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
        let err = run_args(&["--sweep=stack=h1,h2"]).unwrap_err().to_string();
        assert!(err.contains("stack h2 is not built yet"), "{err}");
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
