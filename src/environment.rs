//! The machine and build a run is made on, for the results document. The build's provenance
//! (commit, dirty flag, profile, compiler) is embedded by `build.rs`; the crate version is in the
//! document's `tool`.

use rtbench_results::{Environment, Placement};

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Git commit of the source tree this binary was built from (embedded by `build.rs`), with
/// `-dirty` when tracked files had uncommitted changes; `unknown` when built outside git. Never
/// the current directory's: an installed binary run inside another repository records its own build.
pub fn build_commit() -> String {
    let commit = env!("RTBENCH_GIT_COMMIT");
    if BUILD_DIRTY && commit != "unknown" {
        format!("{commit}-dirty")
    } else {
        commit.to_string()
    }
}

/// Whether the build's source tree had uncommitted changes.
pub const BUILD_DIRTY: bool = matches!(env!("RTBENCH_GIT_DIRTY").as_bytes(), b"true");

/// Cargo's profile of this build: `debug` or `release`.
pub const BUILD_PROFILE: &str = env!("RTBENCH_PROFILE");

/// The warning a debug build prints on every run: its figures measure unoptimised code.
pub const DEBUG_BUILD_WARNING: &str = "warning: this rtbench is a debug build: latencies and CPU \
     figures measure unoptimised code, not the transports (long polling can come out twice as far \
     from the floor); build with --release (cargo run --release, cargo install --path .). The \
     results record the profile and the report marks its figures.";

/// Reads the environment of this run.
pub fn detect(placement: Placement) -> Environment {
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    Environment {
        cpu_model: cpu_model(),
        cores: usize::try_from(online).unwrap_or(0),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into()),
        rustc: env!("RTBENCH_RUSTC_VERSION").to_string(),
        git_commit: build_commit(),
        git_dirty: BUILD_DIRTY,
        build_profile: BUILD_PROFILE.to_string(),
        placement,
        write_cost: None,
    }
}

/// Prints [`DEBUG_BUILD_WARNING`] on stderr when this is a debug build (even with `--quiet`).
pub fn warn_if_debug_build() {
    if BUILD_PROFILE == "debug" {
        eprintln!("{DEBUG_BUILD_WARNING}");
    }
}
