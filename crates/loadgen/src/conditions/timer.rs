//! A timer with microsecond precision for the delay proxy.
//!
//! tokio's timer wheel has a 1 ms tick: a 0.25 ms one-way delay (the `lan` profile) would become
//! anything from 0.25 to 1.25 ms. This timer is one OS thread per proxy that sleeps on a condition
//! variable with 1 ns timer slack until the earliest deadline, then wakes the tasks whose deadline
//! passed. A task pays one cross-thread wake-up (tens of µs on this machine kind) on top of its
//! deadline; docs/conditions.md reports the measured error.

use parking_lot::{Condvar, Mutex};
use rtbench_proto::mono_now_ns;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Longest the timer thread sleeps without a deadline, so it notices being stopped.
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// One registered wake-up.
struct Entry {
    deadline_ns: u64,
    order: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline_ns, self.order) == (other.deadline_ns, other.order)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline_ns, self.order).cmp(&(other.deadline_ns, other.order))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    next_order: u64,
    stopped: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

/// A handle to the timer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct Timer {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

/// Stops the thread when dropped.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.state.lock().stopped = true;
        self.0.wake.notify_one();
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Timer")
    }
}

impl Timer {
    /// Starts the timer thread.
    pub fn start() -> std::io::Result<Timer> {
        let shared = Arc::new(Shared::default());
        let thread_shared = shared.clone();
        std::thread::Builder::new()
            .name("rtbench-proxy-timer".into())
            .spawn(move || run(&thread_shared))?;
        Ok(Timer {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        })
    }

    /// A future that resolves once CLOCK_MONOTONIC reaches `deadline_ns`.
    pub fn sleep_until(&self, deadline_ns: u64) -> Sleep {
        Sleep {
            shared: self.shared.clone(),
            deadline_ns,
            registered: None,
        }
    }
}

/// See [`Timer::sleep_until`]. Registers with the timer thread once per waker, however often it
/// is polled.
pub struct Sleep {
    shared: Arc<Shared>,
    deadline_ns: u64,
    registered: Option<Waker>,
}

impl Sleep {
    /// The deadline, CLOCK_MONOTONIC ns.
    pub fn deadline_ns(&self) -> u64 {
        self.deadline_ns
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if mono_now_ns() >= self.deadline_ns {
            return Poll::Ready(());
        }
        if self
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        self.registered = Some(cx.waker().clone());
        let mut state = self.shared.state.lock();
        if state.stopped {
            return Poll::Ready(());
        }
        let earliest = state
            .heap
            .peek()
            .is_none_or(|Reverse(e)| self.deadline_ns < e.deadline_ns);
        let order = state.next_order;
        state.next_order += 1;
        state.heap.push(Reverse(Entry {
            deadline_ns: self.deadline_ns,
            order,
            waker: cx.waker().clone(),
        }));
        drop(state);
        if earliest {
            self.shared.wake.notify_one();
        }
        Poll::Pending
    }
}

/// The timer thread: wake whoever is due, then sleep until the next deadline.
fn run(shared: &Shared) {
    // SAFETY: prctl(PR_SET_TIMERSLACK) only affects the calling thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    let mut due = Vec::new();
    let mut state = shared.state.lock();
    while !state.stopped {
        let now = mono_now_ns();
        while let Some(Reverse(e)) = state.heap.peek() {
            if e.deadline_ns > now {
                break;
            }
            if let Some(Reverse(e)) = state.heap.pop() {
                due.push(e.waker);
            }
        }
        if !due.is_empty() {
            drop(state);
            due.drain(..).for_each(Waker::wake);
            state = shared.state.lock();
            continue;
        }
        let wait = match state.heap.peek() {
            Some(Reverse(e)) => Duration::from_nanos(e.deadline_ns - now).min(IDLE_WAIT),
            None => IDLE_WAIT,
        };
        shared.wake.wait_for(&mut state, wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleeps_resolve_after_their_deadline_in_order() {
        let timer = Timer::start().unwrap();
        let base = mono_now_ns();
        let deadlines = [3_000_000, 1_000_000, 2_000_000, 1_000_000].map(|d| base + d);
        let mut tasks = tokio::task::JoinSet::new();
        for d in deadlines {
            let t = timer.clone();
            tasks.spawn(async move {
                t.sleep_until(d).await;
                (d, mono_now_ns())
            });
        }
        let mut woke = 0;
        while let Some(Ok((deadline, at))) = tasks.join_next().await {
            assert!(at >= deadline, "woke before its deadline");
            woke += 1;
        }
        assert_eq!(woke, 4);
        timer.sleep_until(0).await; // a past deadline resolves at once
    }
}
