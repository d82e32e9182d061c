//! The protocol stack a run measures the transports on (`docs/stacks.md`): HTTP/1.1 or HTTP/2,
//! plaintext or TLS. A dimension like network conditions: `rtbench run --stack h1,h1-tls` runs
//! every transport on each stack and prints one table per stack.
//!
//! Every name parses, so a results file or a command line written for a later build reads here;
//! [`Stack::check_built`] refuses the ones this build cannot run (today: none).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One protocol stack.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum Stack {
    /// Plaintext HTTP/1.1 (`http://`, `ws://`): what every run measured before stacks existed.
    #[default]
    #[serde(rename = "h1")]
    H1,
    /// HTTP/1.1 over TLS (`https://`, `wss://`), ALPN `http/1.1`.
    #[serde(rename = "h1-tls")]
    H1Tls,
    /// Cleartext HTTP/2 with prior knowledge (h2c).
    #[serde(rename = "h2")]
    H2,
    /// HTTP/2 over TLS, ALPN `h2`.
    #[serde(rename = "h2-tls")]
    H2Tls,
}

impl Stack {
    /// Every stack, the default first.
    pub const ALL: [Stack; 4] = [Stack::H1, Stack::H1Tls, Stack::H2, Stack::H2Tls];

    /// The name on the command line and in results.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stack::H1 => "h1",
            Stack::H1Tls => "h1-tls",
            Stack::H2 => "h2",
            Stack::H2Tls => "h2-tls",
        }
    }

    /// Whether the HTTP listener speaks TLS on this stack.
    pub const fn tls(self) -> bool {
        matches!(self, Stack::H1Tls | Stack::H2Tls)
    }

    /// Whether the HTTP transports (poll, long-poll, SSE) speak HTTP/2 on this stack.
    pub const fn http2(self) -> bool {
        matches!(self, Stack::H2 | Stack::H2Tls)
    }

    /// Whether this build's clients can run this stack.
    pub const fn is_built(self) -> bool {
        matches!(self, Stack::H1 | Stack::H1Tls | Stack::H2 | Stack::H2Tls)
    }

    /// `Ok` when this build can run the stack, else why not.
    pub fn check_built(self) -> Result<Stack, StackError> {
        if self.is_built() {
            Ok(self)
        } else {
            Err(StackError::NotBuilt(self))
        }
    }

    /// Parses a comma-separated list (`h1,h1-tls`), refusing unknown names; repeats are dropped.
    pub fn parse_list(list: &str) -> Result<Vec<Stack>, StackError> {
        let mut out: Vec<Stack> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let stack: Stack = name.parse()?;
            if !out.contains(&stack) {
                out.push(stack);
            }
        }
        if out.is_empty() {
            return Err(StackError::Unknown(list.to_string()));
        }
        Ok(out)
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stack {
    type Err = StackError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stack::ALL
            .into_iter()
            .find(|stack| stack.as_str() == s)
            .ok_or_else(|| StackError::Unknown(s.to_string()))
    }
}

/// A stack name that is unknown, or names a stack this build cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// Not a stack name.
    #[error("unknown stack '{0}' (expected one of: h1, h1-tls, h2, h2-tls)")]
    Unknown(String),
    /// A known stack whose clients are not built yet.
    #[error("stack {0} is not built yet")]
    NotBuilt(Stack),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_round_trip_and_every_stack_is_built() {
        for stack in Stack::ALL {
            assert_eq!(stack.as_str().parse::<Stack>().unwrap(), stack);
            let json = serde_json::to_string(&stack).unwrap();
            assert_eq!(json, format!("\"{stack}\""));
        }
        assert_eq!(
            Stack::parse_list("h1, h1-tls,h1").unwrap(),
            [Stack::H1, Stack::H1Tls]
        );
        assert!(Stack::parse_list("h3").is_err());
        assert!(Stack::parse_list(",").is_err());
        for stack in Stack::ALL {
            assert_eq!(stack.check_built(), Ok(stack));
        }
        assert!(Stack::H1Tls.tls() && Stack::H2Tls.tls() && !Stack::H1.tls() && !Stack::H2.tls());
        assert!(Stack::H2.http2() && Stack::H2Tls.http2());
        assert!(!Stack::H1.http2() && !Stack::H1Tls.http2());
        assert_eq!(Stack::default(), Stack::H1);
    }
}
