//! Other processes' writes, as the server reports them: a watch stream
//! (protocol 3) on each key set this process's watchers watch (the engine
//! hands them to `Backend::watch_keys`). The engine's watchers
//! re-read their keys whenever the store's change token moves (see
//! `engine::worker`); a [`Notifier`] moves it, and wakes the engine, each
//! time the server says a watched key changed. This process's own writes
//! reach its watchers through the engine without the server's help.
//!
//! The stream is frames of a 4-byte little-endian length and a
//! `WatchOutput`; a zero-length frame is a keepalive. A stream that drops
//! (a server restart) is opened again with backoff, and the token moves
//! once it is back, since a write may have happened in between.

use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Buf;
use bytes::BytesMut;
use denokv_proto::datapath as pb;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use prost::Message;

use super::call::Client;

/// The wait before a dropped stream is opened again, doubled per failure
/// up to [`REOPEN_MAX`].
const REOPEN_MIN: Duration = Duration::from_millis(100);
const REOPEN_MAX: Duration = Duration::from_secs(5);
/// With no watch stream (protocol 2), how often the token moves anyway so
/// watchers look again.
const POLL_V2: Duration = Duration::from_secs(1);

/// The engine's wake, once it has handed it over (see `Backend::set_wake`).
pub type Wake = Arc<std::sync::Mutex<Option<Box<dyn Fn() + Send + Sync>>>>;

/// Moves the change token and wakes the engine.
#[derive(Clone)]
pub struct Notifier {
  /// The backend's change token.
  pub changes: Arc<AtomicI64>,
  /// The engine's wake, once it has handed it over.
  pub wake: Wake,
}

impl Notifier {
  /// Says "something changed" to the engine.
  pub fn notify(&self) {
    self.changes.fetch_add(1, Ordering::SeqCst);
    let wake = self.wake.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(wake) = wake.as_ref() {
      wake();
    }
  }
}

/// Follows the server's watch of `keys` until the task is aborted.
pub async fn follow(
  client: Arc<Client>,
  keys: Vec<Vec<u8>>,
  notifier: Notifier,
) {
  let mut failures = 0u32;
  loop {
    match client.watch(&keys).await {
      Ok(Some(body)) => {
        if read_frames(body, &notifier).await {
          failures = 0;
        }
        // The stream ended: writes may have been missed meanwhile.
        notifier.notify();
      }
      Ok(None) => {
        tokio::time::sleep(POLL_V2).await;
        notifier.notify();
        continue;
      }
      Err(_) => {}
    }
    let wait = (REOPEN_MIN * 2u32.pow(failures.min(6))).min(REOPEN_MAX);
    failures += 1;
    tokio::time::sleep(wait).await;
  }
}

/// Reads frames until the stream ends; notifies for the first frame (the
/// state when the watch began: a write may have landed between a
/// watcher's first read and the stream's start, and the watchers'
/// re-read is cheap) and for each change after it. Returns whether any
/// frame arrived.
async fn read_frames(mut body: Incoming, notifier: &Notifier) -> bool {
  let mut buf = BytesMut::new();
  let mut frames = 0u64;
  loop {
    while buf.len() >= 4 {
      let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
      if buf.len() < 4 + len {
        break;
      }
      buf.advance(4);
      let frame = buf.split_to(len);
      if len == 0 {
        continue; // keepalive
      }
      let Ok(out) = pb::WatchOutput::decode(frame.freeze()) else {
        return frames > 0;
      };
      frames += 1;
      if frames == 1 || out.keys.iter().any(|k| k.changed) {
        notifier.notify();
      }
    }
    match body.frame().await {
      Some(Ok(frame)) => {
        if let Ok(data) = frame.into_data() {
          buf.extend_from_slice(&data);
        }
      }
      _ => return frames > 0,
    }
  }
}
