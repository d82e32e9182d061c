//! CLOCK_MONOTONIC in nanoseconds: the one clock every process on a Linux host shares.
//!
//! `std::time::Instant` reads the same clock but cannot be sent to another process; events carry
//! their scheduled publication time as a raw `u64` of this clock so that a client in another process
//! can subtract it from its own reading (docs/model.md, "Clocks").

/// Nanoseconds of CLOCK_MONOTONIC now.
pub fn mono_now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_MONOTONIC is always available on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps the calling OS thread until CLOCK_MONOTONIC reaches `deadline_ns` (absolute), with the
/// thread's timer slack set to 1 ns so the wake-up is not rounded by the kernel's default 50 µs.
///
/// Used by the server's publisher thread: tokio's timer has millisecond granularity, which would add
/// up to a millisecond of schedule error to every event.
pub fn sleep_until_ns(deadline_ns: u64) {
    // SAFETY: prctl(PR_SET_TIMERSLACK) only affects the calling thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    let ts = libc::timespec {
        tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
    };
    loop {
        // SAFETY: `ts` is a valid timespec; a null remainder is allowed with TIMER_ABSTIME.
        let rc = unsafe {
            libc::clock_nanosleep(
                libc::CLOCK_MONOTONIC,
                libc::TIMER_ABSTIME,
                &ts,
                std::ptr::null_mut(),
            )
        };
        if rc != libc::EINTR {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_monotonic_and_sleep_reaches_deadline() {
        let a = mono_now_ns();
        let deadline = a + 2_000_000;
        sleep_until_ns(deadline);
        let b = mono_now_ns();
        assert!(b >= deadline, "woke before the deadline");
    }
}
