//! `rtbench serve`'s TLS flags (`docs/stacks.md`): `--tls` for a certificate generated at start,
//! or `--cert` and `--key` for one read from PEM files.

use clap::Args;
use rtbench_proto::TlsSetting;
use std::path::PathBuf;

/// Whether the HTTP listener speaks TLS, and with which certificate.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// Serve HTTP over TLS (https, wss) with ALPN h2 and http/1.1; without --cert/--key, with a
    /// self-signed certificate for 127.0.0.1, localhost and ::1 generated at start.
    #[arg(long)]
    pub tls: bool,
    /// PEM certificate chain for TLS (with --key; implies --tls).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key for TLS (with --cert; implies --tls).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
}

impl TlsArgs {
    /// The TLS setting the flags ask for.
    pub fn to_setting(&self) -> TlsSetting {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => TlsSetting::Files {
                cert: cert.display().to_string(),
                key: key.display().to_string(),
            },
            _ if self.tls => TlsSetting::SelfSigned,
            _ => TlsSetting::Off,
        }
    }
}

/// Parses one `--stack` name, refusing unknown names and the stacks this build cannot run yet.
pub fn parse_stack(name: &str) -> Result<rtbench_proto::Stack, String> {
    name.trim()
        .parse::<rtbench_proto::Stack>()
        .and_then(rtbench_proto::Stack::check_built)
        .map_err(|e| e.to_string())
}
