//! CPU placement: the server and the load generator on separate cores, fixed for the whole run and
//! the same for every transport (a round trip between cores costs ~45 µs here, on one core ~19 µs).

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

/// How a run places its two processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// CPUs for the server (empty: not pinned).
    pub server: Vec<usize>,
    /// CPUs for the load generator (empty: not pinned).
    pub loadgen: Vec<usize>,
}

impl Plan {
    /// Splits the allowed CPUs in two halves, load generator low, server high; no pinning on one CPU
    /// or when asked not to.
    pub fn choose(allowed: &[usize], pin: bool) -> Plan {
        if !pin || allowed.len() < 2 {
            return Plan {
                server: Vec::new(),
                loadgen: Vec::new(),
            };
        }
        let half = allowed.len() / 2;
        Plan {
            server: allowed[half..].to_vec(),
            loadgen: allowed[..half].to_vec(),
        }
    }

    /// One line for the report.
    pub fn describe(&self, external_server: Option<&str>) -> String {
        let list = |c: &[usize]| c.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        let server = match (external_server, self.server.is_empty()) {
            (Some(addr), _) => format!("external server at {addr}"),
            (None, true) => "server not pinned".into(),
            (None, false) => format!("server on cpu {}", list(&self.server)),
        };
        let loadgen = if self.loadgen.is_empty() {
            "load generator not pinned".into()
        } else {
            format!("load generator on cpu {}", list(&self.loadgen))
        };
        format!("{server}, {loadgen}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_apart_on_two_or_more_cores() {
        assert_eq!(
            Plan::choose(&[0, 1], true),
            Plan {
                server: vec![1],
                loadgen: vec![0]
            }
        );
        assert_eq!(Plan::choose(&[0, 1, 2, 3], true).server, vec![2, 3]);
        assert!(Plan::choose(&[0], true).server.is_empty());
        assert!(Plan::choose(&[0, 1], false).loadgen.is_empty());
        assert_eq!(
            Plan::choose(&[0, 1], true).describe(None),
            "server on cpu 1, load generator on cpu 0"
        );
    }
}
