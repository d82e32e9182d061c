//! A window-edge [`Snapshot`] of a target without rtbench's `/metrics`, from the client side: the
//! meter's bytes ([`super::meter`]) stand for the server's (what the clients read, the server
//! sent), the client sockets' kernel counts for the server's kernel counts, and `/proc/PID` for
//! its CPU and RSS when a pid was given (0 otherwise: the run records that they were not
//! measured). One phase measures one transport, so every transport's slot holds the same counts
//! and the phase's window takes its own.

use super::meter;
use crate::control::{Snapshot, TransportCounters};
use crate::error::LoadError;
use rtbench_proto::Transport;

/// The counters now; an error when `pid` is given and that process is gone.
pub fn client_side(pid: Option<u32>) -> Result<Snapshot, LoadError> {
    let reading = meter::reading();
    let counters = TransportCounters {
        bytes_sent: reading.bytes_read,
        bytes_received: reading.bytes_written,
        http_requests: 0,
        connections_open: 0,
        kernel_bytes_acked: reading.kernel.bytes_received,
        kernel_bytes_received: reading.kernel.bytes_acked,
        kernel_send_queue: 0,
        kernel_receive_queue: 0,
        segments_out: reading.kernel.segments_in,
        segments_in: reading.kernel.segments_out,
    };
    let mut snap = Snapshot {
        transports: [counters; Transport::ALL.len()],
        kernel_reported: true,
        ..Snapshot::default()
    };
    if let Some(pid) = pid {
        let usage = super::process::usage(pid).ok_or_else(|| {
            LoadError::Control(format!("--target-pid {pid}: no such process in /proc"))
        })?;
        snap.server_cpu_us = usage.cpu_us;
        snap.server_rss_bytes = usage.rss_bytes;
    }
    Ok(snap)
}
