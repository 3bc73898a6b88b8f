//! A response body that gives its bytes to the connection in pieces and keeps them counted until
//! the last piece is taken.
//!
//! hyper takes a body's next piece only when the connection can send it (HTTP/1.1 when its write
//! buffer has room, HTTP/2 when the peer's flow-control window does), so a client that does not
//! read leaves the body here, untaken, with its reservation of response bytes
//! ([`crate::budgets::Held`]) still held. That is what bounds the bytes queued for such clients.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::budgets::Held;

/// Largest piece handed to the connection at once.
const PIECE_BYTES_MAX: usize = 64 * 1024;

/// A whole response in memory, handed over piece by piece.
pub struct ResponseBody {
    rest: Bytes,
    /// The response bytes this body counts against; released when the body is dropped (by hyper,
    /// after the last piece, or with the connection).
    _held: Vec<Held>,
}

impl ResponseBody {
    /// A body of `bytes`, counted against `held` until it is dropped.
    pub fn new(bytes: Bytes, held: Vec<Held>) -> ResponseBody {
        ResponseBody {
            rest: bytes,
            _held: held,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        let take = self.rest.len().min(PIECE_BYTES_MAX);
        let piece = self.rest.split_to(take);
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}
