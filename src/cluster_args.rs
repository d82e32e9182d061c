//! The flags and the spec of a server cluster (`serve --procs`, `run --server-procs`), in a file
//! of their own that imports nothing of the binary, so the command line, the supervisor
//! (`serve_cluster.rs`) and the broker child (`broker_child.rs`) can all read them.

use clap::Args;

/// Flags of `rtbench serve` for a cluster of server processes.
#[derive(Debug, Args, Clone, Default)]
pub struct ClusterArgs {
    /// Run N server processes on one port (SO_REUSEPORT), exchanging events through --broker.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub procs: u32,
    /// With --procs: one port per process (--addr's port + i, or ephemeral ports) instead of one
    /// shared port.
    #[arg(long, requires = "broker")]
    pub ports: bool,
    /// The broker between the processes: `redis://HOST:PORT` (Redis pub/sub).
    #[arg(long, value_name = "URL")]
    pub broker: Option<String>,
    /// Most open files of each server process (RLIMIT_NOFILE) [default: the hard limit].
    #[arg(long, value_name = "N")]
    pub fd_budget: Option<u64>,
    /// The cluster's name in the broker (set by the supervisor for its members).
    #[arg(long, hide = true, default_value = "rtbench")]
    pub cluster_id: String,
    /// This process's index in the cluster (set by the supervisor for its members).
    #[arg(long, hide = true)]
    pub member_index: Option<u32>,
    /// Bind with SO_REUSEPORT (set by the supervisor for its members).
    #[arg(long, hide = true)]
    pub reuse_port: bool,
}

/// Flags of `rtbench run` for a server cluster.
#[derive(Debug, Args, Clone, Default)]
pub struct RunClusterArgs {
    /// Run the server as N processes sharing its ports (SO_REUSEPORT), exchanging events through
    /// --broker.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub server_procs: u32,
    /// The broker of a server cluster: `redis` starts a private redis-server on a loopback port
    /// for the run; `redis://HOST:PORT` uses a running one.
    #[arg(long, value_name = "redis|URL")]
    pub broker: Option<String>,
    /// Most open files of each server process [default: the hard limit].
    #[arg(long, value_name = "N")]
    pub server_fd_budget: Option<u64>,
}

/// What `rtbench serve` needs to run as a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Server processes.
    pub procs: u32,
    /// `redis://HOST:PORT`.
    pub broker_url: String,
    /// Open-files limit of each process.
    pub fd_budget: Option<u64>,
}

impl ClusterSpec {
    /// The `rtbench serve` arguments.
    pub fn serve_args(&self) -> Vec<String> {
        let mut args = vec![
            "--procs".to_string(),
            self.procs.to_string(),
            "--broker".to_string(),
            self.broker_url.clone(),
        ];
        if let Some(budget) = self.fd_budget {
            args.extend(["--fd-budget".to_string(), budget.to_string()]);
        }
        args
    }
}
