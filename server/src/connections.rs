//! The connections being served: how idle each one is, and which one gives way when something
//! runs out.
//!
//! A connection is *idle* while the server does nothing for it (no request is being executed, or
//! waiting for a server-wide budget) and no byte moves on its socket: a client that sends nothing,
//! a keep-alive connection between requests, a body that has stopped arriving, a response the
//! client does not read. Clients cause idleness; the server never does. Idleness is measured from
//! the last byte read or written ([`ActivityIo`] records it), so an HTTP/2 client that reads its
//! responses slowly but steadily is not idle, and one that opened a zero flow-control window is.
//!
//! Two rules follow, and they are the whole defence against clients that hold resources by doing
//! nothing:
//! - a connection idle for `idle_timeout` is closed (its task drops it: nothing is in progress);
//! - when something the server holds is exhausted (connection slots, request-body bytes, queued
//!   response bytes), whoever needs it asks the **longest-idle** connection that holds some of it
//!   to give way, provided that connection has been idle at least [`EVICTION_IDLE_MIN`] (so a
//!   transfer that merely paused between two packets is not cut). If none qualifies, the asker
//!   waits, as before, for a connection to end or a budget to be released.
//!
//! A closed connection drops what it holds with it (its request bodies, its queued responses), so
//! giving way frees the budget at once.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The shortest idleness for which a connection is asked to give way to another client.
pub const EVICTION_IDLE_MIN: Duration = Duration::from_secs(1);

/// Every connection being served.
pub struct Connections {
    /// The zero of every connection's `last_active_ms`.
    epoch: Instant,
    by_id: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
    /// Signalled when a connection ends or stops being busy: a waiter may find room now.
    changed: Notify,
}

/// One connection's state, shared by its task, its socket wrapper and its requests.
pub struct Connection {
    id: u64,
    epoch: Instant,
    /// Milliseconds from `epoch` to the last byte read or written; only grows.
    last_active_ms: AtomicU64,
    /// Requests the server is working on for this connection (executing, or waiting for a
    /// server-wide budget). A busy connection is never idle.
    busy: AtomicUsize,
    /// Request-body bytes reserved by this connection's requests.
    body_bytes_held: AtomicUsize,
    /// Response bytes reserved by this connection's responses (built or being built, not yet
    /// handed to the socket).
    response_bytes_held: AtomicUsize,
    closing: AtomicBool,
    close: Notify,
}

/// What a budget's holders hold, to pick whom to ask to give way.
#[derive(Clone, Copy, Debug)]
pub enum Holding {
    /// A connection slot: every connection holds one.
    Slot,
    /// Request-body bytes.
    BodyBytes,
    /// Response bytes.
    ResponseBytes,
}

impl Connections {
    /// No connections yet.
    pub fn new() -> Connections {
        Connections {
            epoch: Instant::now(),
            by_id: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            changed: Notify::new(),
        }
    }

    /// How many connections are being served.
    pub fn count(&self) -> usize {
        self.table().len()
    }

    /// Starts tracking a new connection; it is active as of now.
    pub fn register(self: &Arc<Self>) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            id,
            epoch: self.epoch,
            last_active_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            body_bytes_held: AtomicUsize::new(0),
            response_bytes_held: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        connection.touch();
        self.table().insert(id, Arc::clone(&connection));
        Registered {
            connections: Arc::clone(self),
            connection,
        }
    }

    /// Asks the longest-idle connections holding `what` (each idle at least
    /// [`EVICTION_IDLE_MIN`]) to close, as many as it takes to free `needed` (bytes, or slots):
    /// counting what the connections already closing are about to free. Returns whether one was
    /// asked.
    pub fn evict_longest_idle(&self, what: Holding, needed: usize) -> bool {
        let victims = {
            let table = self.table();
            let freed_soon: usize = table
                .values()
                .filter(|connection| connection.closing())
                .map(|connection| connection.amount_held(what))
                .sum();
            let mut candidates: Vec<(Duration, &Arc<Connection>)> = table
                .values()
                .filter(|connection| !connection.closing() && connection.amount_held(what) > 0)
                .filter_map(|connection| Some((connection.idle_for()?, connection)))
                .filter(|(idle, _)| *idle >= EVICTION_IDLE_MIN)
                .collect();
            // Longest idle first; the older connection first among equals.
            candidates.sort_by_key(|(idle, connection)| (std::cmp::Reverse(*idle), connection.id));
            let mut freed = freed_soon;
            let mut victims = Vec::new();
            for (_, connection) in candidates {
                if freed >= needed {
                    break;
                }
                freed += connection.amount_held(what);
                victims.push(Arc::clone(connection));
            }
            victims
        };
        for victim in &victims {
            tracing::info!(
                connection = victim.id,
                holding = ?what,
                "the longest-idle connection gives way to another client"
            );
            victim.ask_to_close();
        }
        !victims.is_empty()
    }

    /// Waits until a connection ends or stops being busy, or `retry` passes (whichever is
    /// first): then the caller looks again.
    pub async fn changed_or(&self, retry: Duration) {
        let _ = tokio::time::timeout(retry, self.changed.notified()).await;
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Connection>>> {
        // A panic while holding this lock leaves the map itself intact: keep serving.
        self.by_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for Connections {
    fn default() -> Connections {
        Connections::new()
    }
}

/// A registered connection; dropping it (when its task ends) unregisters it.
pub struct Registered {
    connections: Arc<Connections>,
    connection: Arc<Connection>,
}

impl Registered {
    /// The connection.
    pub fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.connections.table().remove(&self.connection.id);
        self.connections.changed.notify_waiters();
    }
}

impl Connection {
    /// Records that a byte moved now.
    pub fn touch(&self) {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        self.last_active_ms.fetch_max(now_ms, Ordering::Relaxed);
    }

    /// How long the connection has been idle, or `None` while the server is busy for it.
    pub fn idle_for(&self) -> Option<Duration> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let last_ms = self.last_active_ms.load(Ordering::Relaxed);
        Some(Duration::from_millis(now_ms.saturating_sub(last_ms)))
    }

    /// Marks the connection busy until the guard is dropped.
    pub fn busy(self: &Arc<Self>, connections: &Arc<Connections>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy {
            connection: Arc::clone(self),
            connections: Arc::clone(connections),
        }
    }

    /// Whether the connection has been asked to close.
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Asks the connection's task to close it (and its requests to stop waiting).
    pub fn ask_to_close(&self) {
        self.closing.store(true, Ordering::Release);
        self.close.notify_waiters();
    }

    /// Completes once the connection has been asked to close.
    pub async fn close_requested(&self) {
        loop {
            let notified = self.close.notified();
            tokio::pin!(notified);
            // Registered before the check, so an ask between the two is not missed.
            notified.as_mut().enable();
            if self.closing() {
                return;
            }
            notified.await;
        }
    }

    /// The count of bytes of `what` this connection holds (`None` for its slot, always held).
    pub fn bytes_held(&self, what: Holding) -> Option<&AtomicUsize> {
        match what {
            Holding::Slot => None,
            Holding::BodyBytes => Some(&self.body_bytes_held),
            Holding::ResponseBytes => Some(&self.response_bytes_held),
        }
    }

    /// Bytes of `what` held, or 1 for the slot every connection holds.
    fn amount_held(&self, what: Holding) -> usize {
        self.bytes_held(what)
            .map_or(1, |bytes| bytes.load(Ordering::Relaxed))
    }
}

/// The server is working for a connection while this lives.
pub struct Busy {
    connection: Arc<Connection>,
    connections: Arc<Connections>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        // Work done for the client counts as activity: idleness starts now, not at its last byte.
        self.connection.touch();
        let before = self.connection.busy.fetch_sub(1, Ordering::AcqRel);
        debug_assert!(before > 0, "every Busy guard was counted when made");
        self.connections.changed.notify_waiters();
    }
}

/// A socket that records when bytes move on it.
pub struct ActivityIo<S> {
    inner: S,
    connection: Arc<Connection>,
}

impl<S> ActivityIo<S> {
    /// Wraps `inner`, recording its activity on `connection`.
    pub fn new(inner: S, connection: Arc<Connection>) -> ActivityIo<S> {
        ActivityIo { inner, connection }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ActivityIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.connection.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ActivityIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.connection.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.connection.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
