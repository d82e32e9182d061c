//! The CPU of the Chromium a browser run launched: every process whose parent chain leads to the
//! launched one (its browser process, zygotes, renderers, GPU and utility processes), read from
//! `/proc/<pid>/stat`. A browser row's load-generator CPU is this, over the measured window.
//!
//! Hand-written, as `crate::target::process` reads one process: the whole job is listing
//! `/proc`, reading four numbers and the parent of each process, which no dependency is needed
//! for. Per process the time is `utime + stime + cutime + cstime` (fields 14 to 17): the last two
//! hold the CPU of children the process has waited for, so a renderer that exits inside the
//! window is still counted through its parent. The window's CPU is the sum over the processes
//! alive at its end of what each spent since its start (all of it for a process born inside).

use std::collections::HashMap;

/// CPU so far of each process of one tree, microseconds, by pid.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TreeCpu {
    /// Per pid of the tree, its CPU (and its waited-for children's) so far, microseconds.
    by_pid_us: HashMap<u32, u64>,
}

impl TreeCpu {
    /// Reads the tree rooted at `root` now; empty when `/proc` cannot be read or `root` is gone.
    pub(crate) fn read(root: u32) -> TreeCpu {
        // SAFETY: sysconf has no preconditions.
        let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let ticks = u64::try_from(ticks).unwrap_or(100).max(1);
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return TreeCpu::default();
        };
        let stats: Vec<Stat> = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|pid| {
                parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
            })
            .collect();
        TreeCpu::of(root, &stats, ticks)
    }

    /// The tree rooted at `root` among `stats`, its times in clock ticks of `ticks` per second.
    fn of(root: u32, stats: &[Stat], ticks: u64) -> TreeCpu {
        let parent: HashMap<u32, u32> = stats.iter().map(|s| (s.pid, s.ppid)).collect();
        let in_tree = |mut pid: u32| {
            // A parent chain is at most as long as the process table.
            for _ in 0..=stats.len() {
                if pid == root {
                    return true;
                }
                match parent.get(&pid) {
                    Some(&p) if p != 0 && p != pid => pid = p,
                    _ => return false,
                }
            }
            false
        };
        let by_pid_us = stats
            .iter()
            .filter(|s| in_tree(s.pid))
            .map(|s| (s.pid, s.ticks.saturating_mul(1_000_000) / ticks))
            .collect();
        TreeCpu { by_pid_us }
    }

    /// Processes in the tree.
    pub(crate) fn processes(&self) -> usize {
        self.by_pid_us.len()
    }

    /// CPU the tree spent between `earlier` and this reading, microseconds: per process alive
    /// now, its time minus its time then (all of it for a process that was not there).
    pub(crate) fn since(&self, earlier: &TreeCpu) -> u64 {
        self.by_pid_us
            .iter()
            .map(|(pid, &us)| us.saturating_sub(earlier.by_pid_us.get(pid).copied().unwrap_or(0)))
            .sum()
    }
}

/// What one `/proc/<pid>/stat` line gives.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    pid: u32,
    ppid: u32,
    /// utime + stime + cutime + cstime, clock ticks.
    ticks: u64,
}

/// Parses a `/proc/<pid>/stat` line; the command name (field 2) may hold spaces and parentheses,
/// so fields are counted after its last `)`.
fn parse_stat(line: &str) -> Option<Stat> {
    let (head, rest) = line.split_at(line.rfind(')')?);
    let pid = head.split_whitespace().next()?.parse().ok()?;
    // After ')': state (3), ppid (4), …, utime (14), stime (15), cutime (16), cstime (17).
    let fields: Vec<&str> = rest[1..].split_whitespace().take(15).collect();
    let number = |i: usize| fields.get(i)?.parse::<i64>().ok();
    let ppid = u32::try_from(number(1)?).ok()?;
    let ticks = (11..15)
        .map(|i| number(i).map(|n| n.max(0) as u64))
        .sum::<Option<u64>>()?;
    Some(Stat { pid, ppid, ticks })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, ppid: u32, ticks: u64) -> Stat {
        Stat { pid, ppid, ticks }
    }

    #[test]
    fn stat_lines_are_read_after_the_name() {
        let line = "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 250 75 10 5 20 0 1 0 9 1 1";
        assert_eq!(parse_stat(line), Some(stat(42, 7, 340)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn the_tree_is_every_descendant_and_nothing_else() {
        // 1 → 10 (root) → 11 → 12, 10 → 13; 20 is a sibling of the root; 30 is orphaned.
        let stats = [
            stat(1, 0, 1_000),
            stat(10, 1, 100),
            stat(11, 10, 200),
            stat(12, 11, 300),
            stat(13, 10, 400),
            stat(20, 1, 500),
            stat(30, 99, 600),
        ];
        let tree = TreeCpu::of(10, &stats, 100);
        assert_eq!(tree.processes(), 4);
        // 10 ms per tick: 1,000 ticks = 10 s.
        assert_eq!(tree.since(&TreeCpu::default()), 10_000_000);
    }

    #[test]
    fn the_window_counts_what_each_process_spent_in_it() {
        let before = TreeCpu::of(10, &[stat(10, 1, 100), stat(11, 10, 50)], 100);
        // 11 exited (its time is in 10's cutime now), 12 was born.
        let after = TreeCpu::of(10, &[stat(10, 1, 180), stat(12, 10, 7)], 100);
        assert_eq!(after.since(&before), (80 + 7) * 10_000);
    }

    #[test]
    fn this_process_is_its_own_tree() {
        let me = TreeCpu::read(std::process::id());
        assert!(me.processes() >= 1);
        assert!(TreeCpu::read(u32::MAX).processes() == 0);
    }
}
