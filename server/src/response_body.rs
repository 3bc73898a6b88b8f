//! A response body that gives its bytes to the connection in pieces and keeps them counted until
//! the last piece is taken.
//!
//! hyper takes a body's next piece only when the connection can send it (HTTP/1.1 when its write
//! buffer has room, HTTP/2 when the peer's flow-control window does), so a client that does not
//! read leaves the body here, untaken, with its reservation of response bytes
//! ([`crate::budgets::Held`]) still held. That is what bounds the bytes queued for such clients.
//!
//! A streamed response (SubscribeToShard's events) ends when its feed does, or as soon as the
//! server begins to shut down: a live subscription would otherwise hold its connection for the
//! whole grace period and then be cut, which clients report as a protocol error. Ending the
//! response is how Kinesis ends a subscription after five minutes; clients subscribe again.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::watch;

use crate::budgets::Held;
use crate::connections::{Busy, Connection, Connections};
use crate::ops::EventFeed;

/// Largest piece handed to the connection at once.
const PIECE_BYTES_MAX: usize = 64 * 1024;

/// A whole response in memory, handed over piece by piece.
pub struct ResponseBody {
    rest: Bytes,
    /// The response bytes this body counts against; released when the body is dropped (by hyper,
    /// after the last piece, or with the connection).
    _held: Vec<Held>,
    /// For a streamed response: what follows `rest`.
    events: Option<Streamed>,
}

/// The rest of a streamed response.
struct Streamed {
    feed: EventFeed,
    /// Completes when the server begins to shut down.
    server_stopping: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// The connection, kept busy (not idle) while the body waits for the next message: a quiet
    /// subscription between heartbeats is not an idle connection. A message waiting for the
    /// client to take it is not work of the server's, so a subscriber that stops reading leaves
    /// its connection idle, and the idle timeout closes it (ending the subscription) as it closes
    /// any connection whose client does not read its response.
    connection: Arc<Connection>,
    connections: Arc<Connections>,
    waiting: Option<Busy>,
}

/// A response's event feed, carried from the handler to the body in the response's extensions
/// (which must be `Clone`; the feed is taken out once).
#[derive(Clone)]
pub struct PushedEvents(Arc<Mutex<Option<EventFeed>>>);

impl PushedEvents {
    /// Carries `feed`.
    pub fn new(feed: EventFeed) -> PushedEvents {
        PushedEvents(Arc::new(Mutex::new(Some(feed))))
    }

    /// The feed, the first time.
    pub fn take(&self) -> Option<EventFeed> {
        self.0.lock().ok()?.take()
    }
}

impl ResponseBody {
    /// A body of `bytes`, counted against `held` until it is dropped.
    pub fn new(bytes: Bytes, held: Vec<Held>) -> ResponseBody {
        ResponseBody {
            rest: bytes,
            _held: held,
            events: None,
        }
    }

    /// A body of `bytes` then the messages of `feed`, counted against `held` until it is dropped,
    /// and keeping `connection` busy while it waits for the next message. It ends after the
    /// message being handed over when `stopped` turns true (the server shutting down).
    pub fn streamed(
        bytes: Bytes,
        held: Vec<Held>,
        feed: EventFeed,
        connection: Arc<Connection>,
        connections: Arc<Connections>,
        mut stopped: watch::Receiver<bool>,
    ) -> ResponseBody {
        let server_stopping = Box::pin(async move {
            // An error is the server gone, which is stopping too.
            let _ = stopped.wait_for(|stopped| *stopped).await;
        });
        ResponseBody {
            rest: bytes,
            _held: held,
            events: Some(Streamed {
                feed,
                server_stopping,
                connection,
                connections,
                waiting: None,
            }),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.rest.is_empty() {
            let Some(streamed) = &mut self.events else {
                return Poll::Ready(None);
            };
            if streamed.server_stopping.as_mut().poll(cx).is_ready() {
                // Dropping the feed ends the subscription's thread and frees its place.
                self.events = None;
                return Poll::Ready(None);
            }
            match streamed.feed.poll_recv(cx) {
                Poll::Ready(Some(message)) => {
                    streamed.waiting = None;
                    self.rest = message;
                }
                Poll::Ready(None) => {
                    self.events = None;
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    if streamed.waiting.is_none() {
                        streamed.waiting = Some(streamed.connection.busy(&streamed.connections));
                    }
                    return Poll::Pending;
                }
            }
        }
        let take = self.rest.len().min(PIECE_BYTES_MAX);
        let piece = self.rest.split_to(take);
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.events.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match self.events {
            None => SizeHint::with_exact(self.rest.len() as u64),
            Some(_) => SizeHint::default(),
        }
    }
}
