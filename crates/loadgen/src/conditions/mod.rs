//! Network conditions between clients and server: round-trip time, jitter and a bandwidth cap,
//! emulated by a delay proxy inside the load generator (docs/conditions.md).
//!
//! A phase run under conditions other than [`Conditions::loopback`] starts a [`Proxy`] and points
//! its clients at it; the control plane (schedule, metrics, faults) still talks to the server
//! directly. [`link`] holds the arithmetic, [`timer`] the sub-millisecond timer, [`proxy`] the
//! sockets. docs/conditions.md compares the emulation with Linux netem.

pub mod link;
pub mod proxy;
pub mod timer;

pub use link::LinkParams;
pub use proxy::Proxy;

use std::time::Duration;

/// Names of the built-in profiles, in the order the README lists them.
pub const PROFILES: [&str; 4] = ["loopback", "lan", "continent", "mobile"];

/// The conditions one phase runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    /// Profile name (`loopback`, `lan`, `continent`, `mobile`, or `custom`).
    pub name: String,
    /// Added round-trip time (half each way).
    pub rtt: Duration,
    /// Largest deviation of one segment's one-way delay (uniform, order preserved).
    pub jitter: Duration,
    /// Bandwidth cap per connection and direction, bits per second; `None` for no cap.
    pub bandwidth_bps: Option<u64>,
}

/// A profile name that is not one of [`PROFILES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown conditions profile '{0}' (expected one of: loopback, lan, continent, mobile)")]
pub struct UnknownProfile(pub String);

impl Default for Conditions {
    fn default() -> Self {
        Conditions::loopback()
    }
}

impl Conditions {
    /// Nothing added: clients connect to the server directly, no proxy.
    pub fn loopback() -> Conditions {
        Conditions {
            name: "loopback".into(),
            rtt: Duration::ZERO,
            jitter: Duration::ZERO,
            bandwidth_bps: None,
        }
    }

    /// A built-in profile: `loopback`; `lan` (0.5 ms RTT); `continent` (40 ms RTT, e.g. Madrid to
    /// New York is ~80 ms, within Europe 20–50 ms); `mobile` (150 ms RTT, 1.6 Mbit/s, a congested
    /// 3G/4G link).
    pub fn profile(name: &str) -> Result<Conditions, UnknownProfile> {
        let ms = Duration::from_micros;
        let (rtt, bandwidth_bps) = match name {
            "loopback" => return Ok(Conditions::loopback()),
            "lan" => (ms(500), None),
            "continent" => (ms(40_000), None),
            "mobile" => (ms(150_000), Some(1_600_000)),
            other => return Err(UnknownProfile(other.to_string())),
        };
        Ok(Conditions {
            name: name.into(),
            rtt,
            jitter: Duration::ZERO,
            bandwidth_bps,
        })
    }

    /// Whether clients go straight to the server (no proxy): `loopback`, or `direct` (a server
    /// given by address, whatever lies between).
    pub fn is_loopback(&self) -> bool {
        self.name == "loopback" || self.name == "direct"
    }

    /// The per-direction link parameters of the proxy.
    pub fn link_params(&self) -> LinkParams {
        LinkParams {
            one_way_ns: self.rtt.as_nanos() as u64 / 2,
            jitter_ns: self.jitter.as_nanos() as u64,
            bandwidth_bps: self.bandwidth_bps,
        }
    }

    /// One line a person reads: `continent: RTT 40 ms, no bandwidth cap (delay proxy)`.
    pub fn describe(&self) -> String {
        if self.is_loopback() {
            return "loopback: nothing added, clients connect to the server directly".into();
        }
        let mut out = format!("{}: RTT {}", self.name, format_duration(self.rtt));
        if !self.jitter.is_zero() {
            out.push_str(&format!(" ± {} jitter", format_duration(self.jitter)));
        }
        match self.bandwidth_bps {
            Some(bps) => out.push_str(&format!(
                ", {} per connection each way",
                format_bandwidth(bps)
            )),
            None => out.push_str(", no bandwidth cap"),
        }
        out.push_str(" (delay proxy)");
        out
    }
}

/// `0.5 ms`, `40 ms`, `1.5 s`.
fn format_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1_000.0;
    if ms >= 1_000.0 {
        format!("{} s", trim(ms / 1_000.0))
    } else {
        format!("{} ms", trim(ms))
    }
}

/// `1.6 Mbit/s`, `500 kbit/s`.
pub fn format_bandwidth(bps: u64) -> String {
    let b = bps as f64;
    if b >= 1e9 {
        format!("{} Gbit/s", trim(b / 1e9))
    } else if b >= 1e6 {
        format!("{} Mbit/s", trim(b / 1e6))
    } else if b >= 1e3 {
        format!("{} kbit/s", trim(b / 1e3))
    } else {
        format!("{bps} bit/s")
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A bandwidth that [`parse_bandwidth`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadBandwidth {
    /// An unknown unit.
    #[error("'{0}': unit must be bit, kbit, mbit or gbit (e.g. 1.6mbit)")]
    Unit(String),
    /// No number before the unit.
    #[error("'{0}': not a number with a unit (e.g. 1.6mbit)")]
    Number(String),
    /// Below 1 kbit/s or above 100 Gbit/s.
    #[error("'{0}': must be between 1kbit and 100gbit")]
    Range(String),
}

/// Parses a bandwidth the way `tc` writes it: a number with `bit`, `kbit`, `mbit` or `gbit`
/// (case-insensitive; `k`, `m`, `g` alone also mean kbit, mbit, gbit), e.g. `1.6mbit`, `500kbit`.
pub fn parse_bandwidth(text: &str) -> Result<u64, BadBandwidth> {
    let t = text.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "bit" => 1.0,
        "k" | "kbit" => 1e3,
        "m" | "mbit" => 1e6,
        "g" | "gbit" => 1e9,
        _ => {
            return Err(BadBandwidth::Unit(text.to_string()));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| BadBandwidth::Number(text.to_string()))?;
    let bps = (value * scale).round();
    if !(1_000.0..=100e9).contains(&bps) {
        return Err(BadBandwidth::Range(text.to_string()));
    }
    Ok(bps as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_descriptions() {
        let c = Conditions::profile("continent").unwrap();
        assert_eq!(
            c.link_params(),
            LinkParams {
                one_way_ns: 20_000_000,
                jitter_ns: 0,
                bandwidth_bps: None
            }
        );
        assert_eq!(
            c.describe(),
            "continent: RTT 40 ms, no bandwidth cap (delay proxy)"
        );
        let m = Conditions::profile("mobile").unwrap();
        assert_eq!(
            m.describe(),
            "mobile: RTT 150 ms, 1.6 Mbit/s per connection each way (delay proxy)"
        );
        assert_eq!(
            Conditions::profile("lan").unwrap().link_params().one_way_ns,
            250_000
        );
        assert!(Conditions::profile("loopback").unwrap().is_loopback());
        assert_eq!(
            Conditions::profile("moon").unwrap_err().to_string(),
            "unknown conditions profile 'moon' (expected one of: loopback, lan, continent, mobile)"
        );
        for p in PROFILES {
            assert_eq!(Conditions::profile(p).unwrap().name, p);
        }
    }

    #[test]
    fn bandwidths_parse_like_tc() {
        assert_eq!(parse_bandwidth("1.6mbit"), Ok(1_600_000));
        assert_eq!(parse_bandwidth("500kbit"), Ok(500_000));
        assert_eq!(parse_bandwidth("1G"), Ok(1_000_000_000));
        assert_eq!(parse_bandwidth("64000"), Ok(64_000));
        assert!(parse_bandwidth("fast").is_err());
        assert!(
            parse_bandwidth("10mbps").is_err(),
            "tc's bps means bytes: refused, not guessed"
        );
        assert!(parse_bandwidth("0mbit").is_err());
        assert_eq!(format_bandwidth(1_600_000), "1.6 Mbit/s");
    }
}
