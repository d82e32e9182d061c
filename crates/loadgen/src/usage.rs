//! CPU time of this process, for client CPU per delivery.

/// User + system CPU time of the calling process so far, microseconds (getrusage, µs resolution).
pub fn process_cpu_us() -> u64 {
    // SAFETY: an all-zero rusage is a valid value to be overwritten; RUSAGE_SELF is always valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64;
    us(ru.ru_utime) + us(ru.ru_stime)
}
