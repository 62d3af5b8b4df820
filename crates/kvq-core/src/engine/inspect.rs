//! kvq's own reads beyond `Deno.Kv`, for moving a store's data elsewhere
//! (`kvq copy`): what a snapshot read does not return. An entry's expiry
//! (Deno's API never hands it back) and the messages of the store's own
//! queue that are not yet handled.
//!
//! Each backend answers what its storage knows; one that cannot tell (KV
//! Connect: its read carries no expiry, and it has no queue) answers
//! `None`, the [`crate::engine::Backend`] default. The worker answers
//! these between turns, outside any transaction: a copy reads a store that
//! may be in use, and a key's expiry read a moment after its value is good
//! enough for that.

/// A kvq-only read: see the module comment.
#[derive(Debug)]
pub enum Inspect {
  /// The expiry of each key (encoded keys, as the wire carries them).
  Expiries(Vec<Vec<u8>>),
  /// A named queue's management request.
  Named(super::named::NamedAdmin),
  /// Up to `limit` queue messages after `cursor` (from the last page).
  Pending {
    /// Where the last page ended; `None` for the first page.
    cursor: Option<String>,
    /// The most messages in this page.
    limit: usize,
  },
}

/// The answer to an [`Inspect`].
#[derive(Debug)]
pub enum Inspected {
  /// Per key, its expiry in epoch milliseconds, or `None` when it has
  /// none (or is absent). The outer `None`: the backend cannot tell.
  Expiries(Option<Vec<Option<i64>>>),
  /// A page of messages and the cursor of the next page (`None`: this was
  /// the last). The outer `None`: the backend has no queue of its own.
  Pending(Option<PendingPage>),
  /// A named queue's management answer.
  Named(super::named::NamedAnswer),
}

/// One page of [`Inspect::Pending`].
#[derive(Debug, Default)]
pub struct PendingPage {
  /// The messages, in the backend's own stable order.
  pub messages: Vec<PendingMessage>,
  /// Where the next page starts, or `None` after the last.
  pub cursor: Option<String>,
}

/// A queue message not yet handled: ready, delayed, or leased to a
/// listener (a leased one would come back to the queue if its listener
/// died, so a copy takes it too).
#[derive(Debug)]
pub struct PendingMessage {
  /// When it is due, in epoch milliseconds (for a leased message: the
  /// lease's end, when it would come back).
  pub due_ms: i64,
  /// Whether a listener holds it now.
  pub leased: bool,
  /// The V8 payload.
  pub payload: Vec<u8>,
  /// What is left of its backoff schedule, as the stored JSON
  /// (`null` or an array of milliseconds).
  pub backoff_schedule: String,
  /// Its dead-letter keys, as the stored JSON (an array of encoded keys,
  /// each an array of bytes).
  pub keys_if_undelivered: String,
}

/// Answers `what` from `backend` (the worker calls this between turns).
pub(super) fn answer(
  backend: &mut dyn super::Backend,
  what: Inspect,
) -> crate::Result<Inspected> {
  Ok(match what {
    Inspect::Expiries(keys) => Inspected::Expiries(backend.expiries(&keys)?),
    Inspect::Named(what) => {
      let now = chrono::Utc::now().timestamp_millis();
      Inspected::Named(backend.named_admin(&what, now)?)
    }
    Inspect::Pending { cursor, limit } => {
      Inspected::Pending(backend.pending(cursor.as_deref(), limit)?)
    }
  })
}
