//! CPU placement: the server and the load generator on separate cores, fixed for the whole run and
//! the same for every transport (a round trip between cores costs ~45 µs here, on one core ~19 µs).
//! The server gets the highest `--server-cpus` of the allowed CPUs (half, rounded up, by default),
//! the load generator the rest; its shard processes (`--loadgen-procs`) are pinned round-robin to
//! those.

use anyhow::{Context, bail};

/// CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most its size.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is the calling thread; `set` is valid and writable.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Vec::new();
    }
    // SAFETY: CPU_ISSET only reads the set, for indices below CPU_SETSIZE.
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

/// Pins the calling thread (and every thread it starts afterwards) to `cpus`.
pub fn pin_current_thread(cpus: &[usize]) -> anyhow::Result<()> {
    if cpus.is_empty() {
        return Ok(());
    }
    // SAFETY: a zeroed cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &c in cpus {
        if c >= libc::CPU_SETSIZE as usize {
            bail!("cpu {c} is out of range");
        }
        // SAFETY: `c` is below CPU_SETSIZE.
        unsafe { libc::CPU_SET(c, &mut set) };
    }
    // SAFETY: pid 0 is the calling thread; `set` is a valid cpu set of the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("pinning to cpus {cpus:?}"));
    }
    Ok(())
}

/// How a run places its processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// CPUs for the server (empty: not pinned).
    pub server: Vec<usize>,
    /// CPUs for the load generator and its shard processes (empty: not pinned).
    pub loadgen: Vec<usize>,
    /// Load-generator processes each phase's clients are split over (1: the run's own process).
    pub loadgen_procs: u32,
}

impl Plan {
    /// Gives the server the highest `server_cpus` of the allowed CPUs (by default half of them,
    /// rounded up) and the load generator the rest; no pinning on one CPU or when asked not to.
    /// An error when `server_cpus` leaves the load generator no CPU.
    pub fn choose(
        allowed: &[usize],
        pin: bool,
        server_cpus: Option<usize>,
    ) -> anyhow::Result<Plan> {
        let unpinned = Plan {
            server: Vec::new(),
            loadgen: Vec::new(),
            loadgen_procs: 1,
        };
        let n = match server_cpus {
            Some(0) => bail!("--server-cpus must be at least 1"),
            Some(n) if n >= allowed.len() => bail!(
                "--server-cpus {n} leaves no CPU for the load generator: this process may use {} CPU(s) ({})",
                allowed.len(),
                list(allowed)
            ),
            Some(n) => n,
            None if !pin || allowed.len() < 2 => return Ok(unpinned),
            None => allowed.len() - allowed.len() / 2,
        };
        let split = allowed.len() - n;
        Ok(Plan {
            server: allowed[split..].to_vec(),
            loadgen: allowed[..split].to_vec(),
            ..unpinned
        })
    }

    /// One line for the report.
    pub fn describe(&self, external_server: Option<&str>) -> String {
        let server = match (external_server, self.server.is_empty()) {
            (Some(addr), _) => format!("external server at {addr}"),
            (None, true) => "server not pinned".into(),
            (None, false) => format!("server on cpu {}", list(&self.server)),
        };
        let mut loadgen = if self.loadgen.is_empty() {
            "load generator not pinned".into()
        } else {
            format!("load generator on cpu {}", list(&self.loadgen))
        };
        if self.loadgen_procs > 1 {
            loadgen.push_str(&format!(" ({} processes)", self.loadgen_procs));
        }
        format!("{server}, {loadgen}")
    }
}

/// `0,1,2`.
fn list(cpus: &[usize]) -> String {
    cpus.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(allowed: &[usize], pin: bool) -> Plan {
        Plan::choose(allowed, pin, None).unwrap()
    }

    #[test]
    fn splits_apart_on_two_or_more_cores() {
        assert_eq!(
            choose(&[0, 1], true),
            Plan {
                server: vec![1],
                loadgen: vec![0],
                loadgen_procs: 1,
            }
        );
        assert_eq!(choose(&[0, 1, 2, 3], true).server, vec![2, 3]);
        assert_eq!(
            choose(&[0, 1, 2], true).server,
            vec![1, 2],
            "half, rounded up"
        );
        assert!(choose(&[0], true).server.is_empty());
        assert!(choose(&[0, 1], false).loadgen.is_empty());
        assert_eq!(
            choose(&[0, 1], true).describe(None),
            "server on cpu 1, load generator on cpu 0"
        );
    }

    #[test]
    fn server_cpus_takes_the_highest_and_leaves_at_least_one() {
        let plan = Plan::choose(&[0, 1, 2, 3], true, Some(3)).unwrap();
        assert_eq!((plan.server, plan.loadgen), (vec![1, 2, 3], vec![0]));
        let plan = Plan::choose(&[0, 1, 2, 3], true, Some(1)).unwrap();
        assert_eq!((plan.server, plan.loadgen), (vec![3], vec![0, 1, 2]));
        let none_left = Plan::choose(&[0, 1], true, Some(2))
            .unwrap_err()
            .to_string();
        assert!(
            none_left.starts_with("--server-cpus 2 leaves no CPU"),
            "{none_left}"
        );
        assert!(Plan::choose(&[0, 1], true, Some(0)).is_err());
        let shards = Plan {
            loadgen_procs: 2,
            ..choose(&[0, 1], true)
        };
        assert_eq!(
            shards.describe(None),
            "server on cpu 1, load generator on cpu 0 (2 processes)"
        );
    }
}
