//! Provenance: the results document records the build the binary came from, not the directory it
//! runs in. The binary is copied out of the tree (as `cargo install` would) and run inside an
//! unrelated git repository; its document must carry the source tree's commit and the build's
//! profile, and a debug build must say so on stderr.

use std::path::Path;
use std::process::Command;

/// `git ARGS` in `dir`, its trimmed stdout when it succeeded.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// An unrelated repository with one commit, in `dir`.
fn unrelated_repo(dir: &Path) -> Option<String> {
    git(dir, &["init", "-q"])?;
    std::fs::write(dir.join("file.txt"), b"unrelated").ok()?;
    git(dir, &["add", "file.txt"])?;
    git(
        dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-q",
            "-m",
            "unrelated",
        ],
    )?;
    git(dir, &["rev-parse", "HEAD"])
}

#[test]
fn an_installed_binary_in_another_repository_records_its_own_build() {
    let home = tempfile::tempdir().unwrap();
    let installed = home.path().join("rtbench");
    std::fs::copy(env!("CARGO_BIN_EXE_rtbench"), &installed).unwrap();
    let elsewhere = home.path().join("other-project");
    std::fs::create_dir(&elsewhere).unwrap();
    let other_commit = unrelated_repo(&elsewhere);

    let out = Command::new(&installed)
        .current_dir(&elsewhere)
        .args(["run", "--quiet", "--transports", "tcp", "--clients", "1"])
        .args(["--rate", "20", "--warmup", "100ms", "--window", "300ms"])
        .args(["--tail", "50ms", "--drain", "1s", "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "run failed: {stderr}");
    let results = rtbench_results::Results::load(&elsewhere.join("out/results.json")).unwrap();
    let env = &results.environment;

    let source = Path::new(env!("CARGO_MANIFEST_DIR"));
    match git(source, &["rev-parse", "HEAD"]) {
        Some(commit) => {
            assert_eq!(env.git_commit.trim_end_matches("-dirty"), commit);
            assert_eq!(env.git_commit.ends_with("-dirty"), env.git_dirty);
        }
        None => assert_eq!(env.git_commit, "unknown"),
    }
    if let Some(other) = other_commit {
        assert!(!env.git_commit.starts_with(&other), "{}", env.git_commit);
    }
    let expected = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert_eq!(env.build_profile, expected);
    assert_eq!(
        stderr.contains("warning: this rtbench is a debug build"),
        expected == "debug",
        "{stderr}"
    );
    assert!(results.tool.ends_with(env!("CARGO_PKG_VERSION")));
}
