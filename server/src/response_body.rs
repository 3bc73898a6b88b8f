//! A response body that gives its bytes to the connection in pieces and keeps them counted until
//! the last piece is taken.
//!
//! hyper takes a body's next piece only when the connection can send it (HTTP/1.1 when its write
//! buffer has room, HTTP/2 when the peer's flow-control window does), so a client that does not
//! read leaves the body here, untaken, with its reservation of response bytes
//! ([`crate::budgets::Held`]) still held. That is what bounds the bytes queued for such clients.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::budgets::Held;
use crate::connections::Busy;
use crate::ops::EventFeed;

/// Largest piece handed to the connection at once.
const PIECE_BYTES_MAX: usize = 64 * 1024;

/// A whole response in memory, handed over piece by piece.
pub struct ResponseBody {
    rest: Bytes,
    /// The response bytes this body counts against; released when the body is dropped (by hyper,
    /// after the last piece, or with the connection).
    _held: Vec<Held>,
    /// For a streamed response: what follows `rest`, and the connection kept busy meanwhile.
    events: Option<(EventFeed, Busy)>,
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

    /// A body of `bytes` then the messages of `feed`, counted against `held` and keeping the
    /// connection `busy` until it is dropped.
    pub fn streamed(bytes: Bytes, held: Vec<Held>, feed: EventFeed, busy: Busy) -> ResponseBody {
        ResponseBody {
            rest: bytes,
            _held: held,
            events: Some((feed, busy)),
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
            let Some((feed, _busy)) = &mut self.events else {
                return Poll::Ready(None);
            };
            match feed.poll_recv(cx) {
                Poll::Ready(Some(message)) => self.rest = message,
                Poll::Ready(None) => {
                    self.events = None;
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
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
