//! Embeds the build's provenance, so a results document records what was built rather than what
//! the current directory happens to hold: the source tree's git commit (`RTBENCH_GIT_COMMIT`, full
//! hash, `unknown` when built outside git, e.g. from a crates tarball), whether tracked files had
//! uncommitted changes (`RTBENCH_GIT_DIRTY`, `true`/`false`), Cargo's profile (`RTBENCH_PROFILE`,
//! `debug` or `release`) and the compiler's version (`RTBENCH_RUSTC_VERSION`).
//!
//! Cargo reruns this when the commit, the index, a manifest or a file under `build.rs`, `src/`,
//! `crates/` or `benches/` changes, so the dirty flag describes the sources the binary was built
//! from (an edit elsewhere, say to `README.md`, does not rebuild the binary and is not recorded).
//!
//! Hand-written rather than through a crate (vergen, built): five environment variables from two
//! `git` commands and `rustc -V` do not need one, and this keeps "unknown" outside git.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `git ARGS` run in the source tree, its trimmed stdout when it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    // --no-optional-locks: `git status` must not refresh the index, whose new mtime would make
    // Cargo run this script, and relink the binary, on every build.
    Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Asks Cargo to run this again when the commit, the index or a source file changes. Only paths
/// that exist are named: Cargo counts a missing one as changed and would rerun every build.
fn rerun_triggers(dir: &Path) {
    let watch = |path: PathBuf| {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    };
    for name in ["HEAD", "index", "packed-refs"] {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", name]) {
            watch(dir.join(path));
        }
    }
    if let Some(head_ref) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(dir, &["rev-parse", "--git-path", &head_ref])
    {
        watch(dir.join(path));
    }
    let sources = [
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "crates",
        "benches",
    ];
    for source in sources {
        watch(dir.join(source));
    }
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let commit = git(&dir, &["rev-parse", "HEAD"]).filter(|c| !c.is_empty());
    // Untracked files are left out: a run's own output (reports/latest) would otherwise mark every
    // later build dirty, and an untracked source file is only compiled once a tracked one names it.
    let dirty = commit.is_some()
        && git(&dir, &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty());
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=RTBENCH_RUSTC_VERSION={version}");
    println!(
        "cargo:rustc-env=RTBENCH_GIT_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
    println!("cargo:rustc-env=RTBENCH_GIT_DIRTY={dirty}");
    println!("cargo:rustc-env=RTBENCH_PROFILE={profile}");
    if commit.is_some() {
        rerun_triggers(&dir);
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
