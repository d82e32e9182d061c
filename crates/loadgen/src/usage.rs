//! CPU time and memory of this process: client CPU per delivery, and the load generator's RSS at
//! each edge of the window (is its memory O(clients), not O(deliveries)?).

/// User + system CPU time of the calling process so far, microseconds (getrusage, µs resolution).
pub fn process_cpu_us() -> u64 {
    // SAFETY: an all-zero rusage is a valid value to be overwritten; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}

/// Resident set size of this process, bytes (`/proc/self/statm`); `None` without `/proc`.
pub fn process_rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page_size).ok()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rss_is_read() {
        assert!(super::process_rss_bytes().is_some_and(|b| b > 0));
    }
}
