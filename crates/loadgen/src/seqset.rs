//! Which sequence numbers a client received, in memory that does not grow with the run: a
//! contiguous prefix (every number up to it received) and a bitset of the next
//! [`REORDER_WINDOW`] numbers above it (docs/measurement.md, "Delivery checks").
//!
//! Hand-written because the job is small and specific: a general bitset crate would still grow
//! with the highest number seen, and the bounded reorder window is the point. When a number
//! arrives more than [`REORDER_WINDOW`] above the oldest one still missing, the window slides up:
//! numbers it leaves behind unreceived are *given up* (handed to the caller, which counts them
//! lost), and a number below the window that arrives later cannot be told from a duplicate
//! ([`Insert::BelowWindow`]).

use std::collections::VecDeque;

/// Sequence numbers above the contiguous prefix that the set tracks one by one: 4,096, i.e.
/// 512 bytes per client, or 204 s of events at 20 events/s.
pub const REORDER_WINDOW: u64 = WINDOW_WORDS as u64 * 64;
/// [`REORDER_WINDOW`] in 64-bit words.
const WINDOW_WORDS: usize = 64;

/// What inserting one sequence number found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Not received before.
    First,
    /// Received before.
    Duplicate,
    /// Below the window: already given up (counted lost) or received; it cannot tell which.
    BelowWindow,
}

/// Received sequence numbers (1 and up), bounded to a prefix and a sliding window.
#[derive(Debug, Clone)]
pub struct SeqSet {
    /// Index of the first word of `words`; every number below `base_word * 64` is settled.
    base_word: u64,
    /// Bit `i` of `words[k]`: number `(base_word + k) * 64 + i` was received.
    words: VecDeque<u64>,
}

impl Default for SeqSet {
    fn default() -> Self {
        // Number 0 is no event: marked, so the prefix can pass it.
        SeqSet {
            base_word: 0,
            words: VecDeque::from([1]),
        }
    }
}

impl SeqSet {
    /// Marks `seq` received. Numbers the window leaves behind unreceived are passed to `give_up`.
    pub fn insert(&mut self, seq: u64, mut give_up: impl FnMut(u64)) -> Insert {
        let word = seq / 64;
        if word < self.base_word {
            return Insert::BelowWindow;
        }
        while word >= self.base_word + WINDOW_WORDS as u64 {
            self.settle_front(&mut give_up);
        }
        let k = (word - self.base_word) as usize;
        if k >= self.words.len() {
            self.words.resize(k + 1, 0);
        }
        let bit = 1u64 << (seq % 64);
        if self.words[k] & bit != 0 {
            return Insert::Duplicate;
        }
        self.words[k] |= bit;
        // The prefix moves up past every full word.
        while self.words.len() > 1 && self.words[0] == u64::MAX {
            self.words.pop_front();
            self.base_word += 1;
        }
        Insert::First
    }

    /// Drops the oldest word, handing its unreceived numbers to `give_up`.
    fn settle_front(&mut self, give_up: &mut impl FnMut(u64)) {
        let w = self.words.pop_front().unwrap_or(0);
        let first = self.base_word * 64;
        for i in (0..64).filter(|i| w & (1 << i) == 0) {
            give_up(first + i);
        }
        self.base_word += 1;
    }

    /// The lowest number the window still tracks; every lower one is settled.
    pub fn window_start(&self) -> u64 {
        self.base_word * 64
    }

    /// Numbers in `from..=to` (both at or above [`SeqSet::window_start`]) not received.
    pub fn missing_in(&self, from: u64, to: u64) -> u64 {
        let from = from.max(self.window_start());
        if to < from {
            return 0;
        }
        let received: u64 = (from / 64..=to / 64)
            .map(|word| {
                let k = (word - self.base_word) as usize;
                let w = self.words.get(k).copied().unwrap_or(0);
                let lo = if word == from / 64 { from % 64 } else { 0 };
                let hi = if word == to / 64 { to % 64 } else { 63 };
                let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
                u64::from((w & mask).count_ones())
            })
            .sum();
        to - from + 1 - received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_moves_up_and_memory_stays_bounded() {
        let mut s = SeqSet::default();
        for seq in 1..=100_000 {
            assert_eq!(
                s.insert(seq, |_| panic!("nothing to give up")),
                Insert::First
            );
        }
        assert_eq!(s.words.len(), 1, "a contiguous run keeps one word");
        assert_eq!(s.missing_in(1, 100_000), 0);
        assert_eq!(s.insert(1_000, |_| ()), Insert::BelowWindow);
        assert_eq!(s.insert(100_000, |_| ()), Insert::Duplicate);
    }

    #[test]
    fn a_hole_is_given_up_once_the_window_passes_it() {
        let mut s = SeqSet::default();
        let mut given_up = Vec::new();
        for seq in (1..=10_000).filter(|&s| s != 5 && s != 70) {
            s.insert(seq, |g| given_up.push(g));
        }
        assert_eq!(given_up, [5, 70], "both holes fell below the window");
        assert!(s.words.len() <= WINDOW_WORDS);
        assert_eq!(s.missing_in(s.window_start(), 10_000), 0);
        assert_eq!(s.insert(70, |_| ()), Insert::BelowWindow);
        let mut s = SeqSet::default();
        s.insert(3, |_| ());
        assert_eq!(
            s.missing_in(1, 200),
            199,
            "a hole inside the window is still missing"
        );
        assert_eq!(s.missing_in(3, 3), 0);
    }
}
