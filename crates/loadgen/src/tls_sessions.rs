//! The load generator's TLS session store: where a client keeps the TLS 1.3 tickets the server
//! sends, so that reconnecting resumes the session (a PSK handshake: no certificate, no
//! signature) as a browser's reconnect would.
//!
//! Hand-written because rustls' own `ClientSessionMemoryCache` keeps at most 8 TLS 1.3 tickets per
//! server name, and every client of a run names the same server (its IP address): a storm of
//! reconnects would find 8 tickets and make the rest full handshakes, which is the store's limit,
//! not the protocol's. This one keeps up to [`TICKETS_PER_SERVER`] tickets per server name, so
//! every client of a run can reconnect resumed. Each ticket is used at most once (rustls' rule).

use rustls::NamedGroup;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// TLS 1.3 tickets kept per server name: two per client for 32,768 clients (the server sends two
/// per connection). A ticket holds a few hundred bytes, so a full store is a few tens of MiB of the
/// load generator's memory, never the server's.
pub const TICKETS_PER_SERVER: usize = 65_536;
/// Server names remembered (a run has one server; a shard or a test may name a few).
const SERVERS: usize = 16;

/// What is remembered about one server.
#[derive(Debug, Default)]
struct ServerSessions {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    tls13: VecDeque<Tls13ClientSessionValue>,
}

/// A session store for every client of one server certificate (shared through the one
/// `ClientConfig`), bounded at [`TICKETS_PER_SERVER`] tickets per server name.
#[derive(Debug)]
pub(crate) struct TicketPool {
    tickets_per_server: usize,
    servers: Mutex<HashMap<ServerName<'static>, ServerSessions>>,
}

impl TicketPool {
    /// A store keeping up to `tickets_per_server` TLS 1.3 tickets per server name.
    pub(crate) fn new(tickets_per_server: usize) -> TicketPool {
        TicketPool {
            tickets_per_server,
            servers: Mutex::new(HashMap::new()),
        }
    }

    /// The map, even if a thread panicked holding it (its data are tickets, still valid).
    fn lock(&self) -> MutexGuard<'_, HashMap<ServerName<'static>, ServerSessions>> {
        self.servers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Edits `name`'s sessions, making room for a new server by forgetting an old one.
    fn edit(&self, name: ServerName<'static>, f: impl FnOnce(&mut ServerSessions)) {
        let mut servers = self.lock();
        if !servers.contains_key(&name)
            && servers.len() >= SERVERS
            && let Some(old) = servers.keys().next().cloned()
        {
            servers.remove(&old);
        }
        f(servers.entry(name).or_default());
    }
}

impl ClientSessionStore for TicketPool {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.edit(server_name, |s| s.kx_hint = Some(group));
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.lock().get(server_name).and_then(|s| s.kx_hint)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.edit(server_name, |s| s.tls12 = Some(value));
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.lock().get(server_name).and_then(|s| s.tls12.clone())
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        if let Some(s) = self.lock().get_mut(server_name) {
            s.tls12 = None;
        }
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        let cap = self.tickets_per_server;
        self.edit(server_name, |s| {
            if s.tls13.len() >= cap {
                s.tls13.pop_front();
            }
            s.tls13.push_back(value);
        });
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.lock()
            .get_mut(server_name)
            .and_then(|s| s.tls13.pop_back())
    }
}

/// A [`TicketPool`] that keeps the tickets it is given but hands none out until
/// [`GatedPool::open`]: the connect storm's first storm is then all full handshakes (however its
/// clients interleave) and its reconnect storm resumes with the tickets the first one received.
#[derive(Debug)]
pub(crate) struct GatedPool {
    pool: TicketPool,
    open: AtomicBool,
}

impl GatedPool {
    /// A closed gate over a pool of [`TICKETS_PER_SERVER`] tickets per server.
    pub(crate) fn closed() -> GatedPool {
        GatedPool {
            pool: TicketPool::new(TICKETS_PER_SERVER),
            open: AtomicBool::new(false),
        }
    }

    /// From now on, tickets are handed out.
    pub(crate) fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl ClientSessionStore for GatedPool {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.pool.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.pool.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.pool.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.open
            .load(Ordering::SeqCst)
            .then(|| self.pool.tls12_session(server_name))
            .flatten()
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.pool.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.pool.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.open
            .load(Ordering::SeqCst)
            .then(|| self.pool.take_tls13_ticket(server_name))
            .flatten()
    }
}
