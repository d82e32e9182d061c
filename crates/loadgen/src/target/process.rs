//! A target server's CPU and memory from `/proc/PID` (`rtbench run --target-pid`): user + system
//! CPU from `stat` (clock ticks, usually 10 ms each) and the resident set from `statm`. Without a
//! pid they are not measured, and results say so rather than printing 0.

/// CPU and RSS of one process at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessUsage {
    /// User + system CPU time so far, microseconds.
    pub cpu_us: u64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
}

/// Reads process `pid`'s usage; `None` when it does not exist (or `/proc` cannot be read).
pub fn usage(pid: u32) -> Option<ProcessUsage> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    // SAFETY: sysconf has no preconditions.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let (ticks, page) = (u64::try_from(ticks).ok()?, u64::try_from(page).ok()?);
    let cpu_ticks = cpu_ticks(&stat)?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(ProcessUsage {
        cpu_us: cpu_ticks.checked_mul(1_000_000)? / ticks.max(1),
        rss_bytes: pages * page,
    })
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line; the command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let line = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 9 1 1";
        assert_eq!(cpu_ticks(line), Some(325));
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn this_process_is_read_and_a_missing_one_is_none() {
        let me = usage(std::process::id()).expect("/proc/self");
        assert!(me.rss_bytes > 0);
        assert_eq!(usage(u32::MAX), None);
    }
}
