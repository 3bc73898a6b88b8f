//! Bytes the server holds for its clients, counted against fixed budgets: request bodies from the
//! moment their reading starts until their call is answered, and responses from before they are
//! built until their last byte is handed to the socket.
//!
//! A budget is a semaphore of bytes. A server-wide budget that runs out asks the longest-idle
//! connection holding some of it to give way (see [`crate::connections`]) and waits in line
//! meanwhile; a per-connection budget only ever waits, for the connection's own earlier requests.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::connections::{Connection, Connections, Holding};

/// How often a reservation that waits asks another idle holder to give way.
const EVICTION_RETRY: Duration = Duration::from_millis(200);

/// A bounded number of bytes, reserved and released.
pub struct ByteBudget {
    semaphore: Arc<Semaphore>,
    bytes_max: usize,
    /// What a holder of a server-wide budget holds (whom to ask to give way); `None` for a
    /// per-connection budget.
    shared: Option<Holding>,
}

/// Bytes reserved from a budget; released when dropped.
pub struct Held {
    permit: OwnedSemaphorePermit,
    /// The connection whose figure of held bytes this reservation counts in, for a shared budget.
    counted_on: Option<(Arc<Connection>, Holding)>,
}

impl ByteBudget {
    /// A server-wide budget of `bytes_max`, whose holders hold `what`.
    pub fn shared(bytes_max: usize, what: Holding) -> ByteBudget {
        ByteBudget::new(bytes_max, Some(what))
    }

    /// One connection's budget of `bytes_max`.
    pub fn per_connection(bytes_max: usize) -> ByteBudget {
        ByteBudget::new(bytes_max, None)
    }

    fn new(bytes_max: usize, shared: Option<Holding>) -> ByteBudget {
        let bytes_max = bytes_max.clamp(1, Semaphore::MAX_PERMITS);
        ByteBudget {
            semaphore: Arc::new(Semaphore::new(bytes_max)),
            bytes_max,
            shared,
        }
    }

    /// Bytes reserved now.
    pub fn held_bytes(&self) -> usize {
        self.bytes_max - self.semaphore.available_permits()
    }

    /// Reserves `bytes` (at most the whole budget) for `connection`, waiting in line for them.
    pub async fn reserve(
        &self,
        bytes: usize,
        connection: &Arc<Connection>,
        connections: &Connections,
    ) -> Held {
        let permit = self.acquire(bytes, connections).await;
        self.held(permit, connection)
    }

    /// Reserves `bytes` more for what `held` already holds (a response larger than foreseen).
    pub async fn grow(&self, held: &mut Held, bytes: usize, connections: &Connections) {
        let more = self.acquire(bytes, connections).await;
        held.count(more.num_permits(), true);
        held.permit.merge(more);
    }

    async fn acquire(&self, bytes: usize, connections: &Connections) -> OwnedSemaphorePermit {
        // Never more than the whole budget, or the wait would never end.
        let bytes = u32::try_from(bytes.clamp(1, self.bytes_max)).unwrap_or(u32::MAX);
        let acquire = Arc::clone(&self.semaphore).acquire_many_owned(bytes);
        tokio::pin!(acquire);
        loop {
            let available = self.semaphore.available_permits();
            if let Some(what) = self.shared
                && available < bytes as usize
            {
                connections.evict_longest_idle(what, bytes as usize - available);
            }
            tokio::select! {
                permit = &mut acquire => {
                    return permit.expect("a budget's semaphore is never closed");
                }
                () = tokio::time::sleep(EVICTION_RETRY) => {}
            }
        }
    }

    fn held(&self, permit: OwnedSemaphorePermit, connection: &Arc<Connection>) -> Held {
        let bytes = permit.num_permits();
        let held = Held {
            permit,
            counted_on: self.shared.map(|what| (Arc::clone(connection), what)),
        };
        held.count(bytes, true);
        held
    }
}

impl Held {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.permit.num_permits()
    }

    /// Gives back what is held beyond `bytes` (at least one byte stays held until the drop).
    pub fn shrink_to(&mut self, bytes: usize) {
        let excess = self.bytes().saturating_sub(bytes.max(1));
        if let Some(released) = self.permit.split(excess) {
            self.count(released.num_permits(), false);
        }
    }

    /// Adds `bytes` to (or takes them from) the count of the connection this is counted on.
    fn count(&self, bytes: usize, add: bool) {
        let Some((connection, what)) = &self.counted_on else {
            return;
        };
        if let Some(counter) = connection.bytes_held(*what) {
            if add {
                counter.fetch_add(bytes, Ordering::Relaxed);
            } else {
                let before = counter.fetch_sub(bytes, Ordering::Relaxed);
                debug_assert!(
                    before >= bytes,
                    "a connection gives back only what it holds"
                );
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.count(self.permit.num_permits(), false);
    }
}
