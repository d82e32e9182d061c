//! The arithmetic of one direction of an emulated link: when does each byte the proxy read leave it?
//!
//! A chunk read at `arrival_ns` is cut into segments of at most [`MSS_BYTES`] when a bandwidth is
//! set (so a large response trickles out as packets would, instead of arriving all at once). Each
//! segment is serialised onto the link in turn — it starts when both it has arrived and the link is
//! free, and takes `(bytes + `[`HEADER_BYTES`]`) × 8 / bandwidth` — then propagates for the one-way
//! delay, plus a jitter drawn uniformly from `[-jitter, +jitter]` (clamped at zero). A byte stream
//! cannot be reordered, so a segment is never released before the one ahead of it: jitter only ever
//! delays (`release = max(release, previous release)`).
//!
//! The first direction of a connection can also be held until a handshake would have finished
//! (`not_before_ns`): on a real path the client's first byte leaves one round trip after its SYN.
//!
//! Pure and deterministic (the jitter comes from a seeded generator), so it is unit-tested exactly.

/// Largest segment payload when a bandwidth is set, bytes (Ethernet MTU 1500 − 20 IP − 32 TCP).
pub const MSS_BYTES: usize = 1448;
/// Per-segment bytes a real link also carries and a bandwidth cap must count: Ethernet header 14,
/// IPv4 20, TCP with timestamps 32.
pub const HEADER_BYTES: u64 = 66;

/// What shapes one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkParams {
    /// Propagation delay, nanoseconds (half the round-trip time).
    pub one_way_ns: u64,
    /// Largest deviation of one segment's delay, nanoseconds (uniform, order preserved).
    pub jitter_ns: u64,
    /// Serialisation rate, bits per second; `None` for no cap.
    pub bandwidth_bps: Option<u64>,
}

/// A piece of a chunk and when it may be written on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Offset in the chunk, bytes.
    pub offset: usize,
    /// Length, bytes (0 for an end-of-stream or reset marker).
    pub len: usize,
    /// CLOCK_MONOTONIC time at which it leaves the link, nanoseconds.
    pub release_ns: u64,
}

/// The state of one direction: when the link is next free, the last release, the jitter generator.
#[derive(Debug, Clone)]
pub struct Link {
    params: LinkParams,
    not_before_ns: u64,
    link_free_ns: u64,
    last_release_ns: u64,
    rng: u64,
}

impl Link {
    /// A direction shaped by `params` that sends nothing before `not_before_ns`; `seed` seeds the
    /// jitter (any value; 0 is replaced).
    pub fn new(params: LinkParams, not_before_ns: u64, seed: u64) -> Link {
        Link {
            params,
            not_before_ns,
            link_free_ns: 0,
            last_release_ns: 0,
            rng: seed.max(1),
        }
    }

    /// Serialisation time of one segment carrying `len` payload bytes, nanoseconds (rounded up).
    pub fn transmit_ns(&self, len: usize) -> u64 {
        match self.params.bandwidth_bps {
            Some(bps) if bps > 0 => ((len as u64 + HEADER_BYTES) * 8 * 1_000_000_000).div_ceil(bps),
            _ => 0,
        }
    }

    /// Schedules a chunk of `len` bytes read at `arrival_ns`, appending its segments to `out`. A
    /// zero-length chunk (end of stream, reset) gets one zero-length segment, after everything
    /// before it.
    pub fn schedule(&mut self, arrival_ns: u64, len: usize, out: &mut Vec<Segment>) {
        let mut start = arrival_ns.max(self.not_before_ns);
        let seg_len = if self.params.bandwidth_bps.is_some() {
            MSS_BYTES
        } else {
            len.max(1)
        };
        let mut offset = 0;
        loop {
            let n = (len - offset).min(seg_len);
            if n > 0 {
                start = start.max(self.link_free_ns) + self.transmit_ns(n);
                self.link_free_ns = start;
            }
            let release = (start + self.params.one_way_ns).saturating_add_signed(self.jitter());
            let release = release.max(self.last_release_ns).max(start);
            self.last_release_ns = release;
            out.push(Segment {
                offset,
                len: n,
                release_ns: release,
            });
            offset += n;
            if offset >= len {
                return;
            }
        }
    }

    /// One jitter draw, uniform in `[-jitter, +jitter]` nanoseconds (xorshift64*).
    fn jitter(&mut self) -> i64 {
        let j = self.params.jitter_ns;
        if j == 0 {
            return 0;
        }
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (r % (2 * j + 1)) as i64 - j as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn one(link: &mut Link, at: u64, len: usize) -> Vec<Segment> {
        let mut out = Vec::new();
        link.schedule(at, len, &mut out);
        out
    }

    #[test]
    fn delay_only_releases_each_chunk_one_way_later_whole() {
        let mut l = Link::new(
            LinkParams {
                one_way_ns: 20 * MS,
                ..LinkParams::default()
            },
            0,
            1,
        );
        assert_eq!(
            one(&mut l, 5 * MS, 10_000),
            [Segment {
                offset: 0,
                len: 10_000,
                release_ns: 25 * MS
            }]
        );
        assert_eq!(
            one(&mut l, 6 * MS, 0),
            [Segment {
                offset: 0,
                len: 0,
                release_ns: 26 * MS
            }]
        );
    }

    #[test]
    fn handshake_holds_the_first_bytes() {
        let p = LinkParams {
            one_way_ns: 20 * MS,
            ..LinkParams::default()
        };
        let mut l = Link::new(p, 40 * MS, 1);
        assert_eq!(
            one(&mut l, MS, 100)[0].release_ns,
            60 * MS,
            "SYN round trip, then one way"
        );
        assert_eq!(one(&mut l, 70 * MS, 100)[0].release_ns, 90 * MS);
    }

    #[test]
    fn bandwidth_serialises_segments_back_to_back() {
        // 1.6 Mbit/s: a full segment (1448 + 66 bytes = 12,112 bits) takes 7.57 ms.
        let p = LinkParams {
            one_way_ns: 75 * MS,
            jitter_ns: 0,
            bandwidth_bps: Some(1_600_000),
        };
        let mut l = Link::new(p, 0, 1);
        assert_eq!(l.transmit_ns(MSS_BYTES), 7_570_000);
        assert_eq!(
            l.transmit_ns(134),
            1_000_000,
            "134 + 66 bytes = 1,600 bits = 1 ms"
        );
        let segs = one(&mut l, 0, 3_000);
        assert_eq!(
            segs.iter().map(|s| (s.offset, s.len)).collect::<Vec<_>>(),
            [(0, 1448), (1448, 1448), (2896, 104)]
        );
        let t104 = l.transmit_ns(104);
        assert_eq!(
            segs.iter().map(|s| s.release_ns).collect::<Vec<_>>(),
            [
                7_570_000 + 75 * MS,
                2 * 7_570_000 + 75 * MS,
                2 * 7_570_000 + t104 + 75 * MS
            ]
        );
        // A chunk arriving while the link is busy waits for it.
        let next = one(&mut l, MS, 134);
        assert_eq!(next[0].release_ns, 2 * 7_570_000 + t104 + MS + 75 * MS);
        // Once idle, a chunk starts at its arrival.
        assert_eq!(
            one(&mut l, 500 * MS, 134)[0].release_ns,
            500 * MS + MS + 75 * MS
        );
    }

    #[test]
    fn jitter_stays_in_bounds_and_never_reorders() {
        let p = LinkParams {
            one_way_ns: 20 * MS,
            jitter_ns: 5 * MS,
            bandwidth_bps: None,
        };
        // Sparse segments (20 ms apart, more than the jitter's spread) keep their own draw.
        let mut l = Link::new(p, 0, 42);
        let (mut early, mut late) = (false, false);
        for i in 0..1_000u64 {
            let at = i * 20 * MS;
            let delay = one(&mut l, at, 10)[0].release_ns - at;
            assert!(
                (15 * MS..=25 * MS).contains(&delay),
                "delay {delay} outside 20 ± 5 ms"
            );
            early |= delay < 17 * MS;
            late |= delay > 23 * MS;
        }
        assert!(early && late, "draws cover both sides of the delay");
        // Dense segments (0.1 ms apart) would overtake each other: order wins over the draw.
        let mut l = Link::new(p, 0, 42);
        let mut last = 0;
        for i in 0..10_000u64 {
            let r = one(&mut l, i * 100_000, 10)[0].release_ns;
            assert!(r >= last, "released before the segment ahead of it");
            last = r;
        }
    }

    #[test]
    fn same_seed_same_schedule() {
        let p = LinkParams {
            one_way_ns: MS,
            jitter_ns: MS,
            bandwidth_bps: Some(10_000_000),
        };
        let (mut a, mut b) = (Link::new(p, 0, 7), Link::new(p, 0, 7));
        for at in [0, 10, 5_000_000] {
            assert_eq!(one(&mut a, at, 4_000), one(&mut b, at, 4_000));
        }
    }
}
