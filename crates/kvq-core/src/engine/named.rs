//! Named queues in the engine: the shapes that cross the backend interface
//! for kvq's own queues (docs/api.md, "Named queues"), beside Deno's one
//! anonymous queue.
//!
//! A named queue's message is ready (due at a time), waiting behind the
//! head of its ordering group, running under a lease, or dead (a dead
//! letter with its last error). The backend keeps these in tables of its
//! own (SQLite: sqlite/named.rs), never in Deno's `queue` tables, so Deno
//! never delivers them. What a failed attempt becomes is decided by the
//! listener, which knows the queue's retry policy and which errors must
//! not be retried: the engine only stores its [`Verdict`]. A lease that
//! lapses (its process died) is decided by the engine alone: a failed
//! attempt, retried at once or, past the message's `max_attempts`, dead.

use std::sync::Arc;

use denokv_proto::AtomicWrite;
use denokv_proto::Versionstamp;

/// One message to add to a named queue.
#[derive(Clone, Debug)]
pub struct NamedEnqueue {
  /// The queue's name.
  pub queue: Arc<str>,
  /// The message id, made by the caller (32 hex digits, time first).
  pub id: String,
  /// The V8 payload.
  pub payload: Vec<u8>,
  /// When it is due, in epoch ms.
  pub due: i64,
  /// Its ordering group: delivered after every earlier message of the
  /// group is done, one at a time.
  pub group: Option<String>,
  /// A deduplication id and the end of its window (epoch ms): while an
  /// earlier message's window for the same id lasts, nothing is added.
  pub dedup: Option<(String, i64)>,
  /// Attempts in all before a lapsed lease makes it a dead letter.
  pub max_attempts: u32,
  /// When it was enqueued (epoch ms).
  pub enqueued_at: i64,
  /// The caller already told its user this is no duplicate (an enqueue
  /// inside `atomic()` answers before the commit): a duplicate found at
  /// commit fails the whole write, as a failed check does, instead of
  /// adding nothing.
  pub unique: bool,
}

/// Named enqueues, optionally inside a user's atomic write: all of them
/// are stored if and only if the write commits.
#[derive(Default)]
pub struct NamedWrite {
  /// The user's checks and mutations, if the enqueues ride in one.
  pub atomic: Option<AtomicWrite>,
  /// The messages.
  pub enqueues: Vec<NamedEnqueue>,
}

/// What became of one [`NamedEnqueue`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enqueued {
  /// Stored under its own id.
  Added,
  /// A duplicate within its window: nothing added; the first message's id
  /// and the versionstamp of the write that stored it.
  Duplicate(String, Versionstamp),
}

/// A committed [`NamedWrite`].
#[derive(Debug)]
pub struct NamedCommitted {
  /// The versionstamp of the atomic write it rode in (a fresh one
  /// otherwise).
  pub versionstamp: Versionstamp,
  /// Per enqueue, in order.
  pub enqueued: Vec<Enqueued>,
}

/// What a backend's [`crate::engine::Backend::write_named`] did.
#[derive(Debug, Default)]
pub struct NamedApplied {
  /// `None` when a check of the atomic write failed (nothing stored).
  pub committed: Option<NamedCommitted>,
  /// The atomic write's effects, for watchers and timers.
  pub applied: super::Applied,
  /// Queues that gained a ready message.
  pub woken: Vec<Arc<str>>,
}

/// What a listener decided for a failed attempt of a named message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
  /// Ready again at `at` (epoch ms), its attempt counted.
  Retry {
    /// When it is due again.
    at: i64,
    /// The attempt's error, as text.
    error: String,
  },
  /// A dead letter now, with this error; its group moves on.
  Dead {
    /// The last attempt's error, as text.
    error: String,
  },
}

/// The metadata a named message carries to its handler.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedMeta {
  /// The message id.
  pub id: String,
  /// Attempts already made (0 on the first delivery).
  pub attempts: u32,
  /// When it was enqueued (epoch ms).
  pub enqueued_at: i64,
  /// Its ordering group and sequence number in it.
  pub group: Option<(String, i64)>,
}

/// The error text a named message gets when its lease lapsed.
pub const LAPSED: &str =
  "the lease lapsed: the listener's process stopped or stalled";

/// Looking into a named queue, and repairing it, from outside its
/// listeners (the management API, `kvq queues`): answered between turns,
/// each change in a transaction of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamedAdmin {
  /// Messages by state ([`NamedAnswer::Counts`]).
  Counts(String),
  /// The next `limit` pending messages in delivery order: ready and
  /// delayed by due time, then those waiting behind a group's head
  /// ([`NamedAnswer::Messages`]).
  Peek(String, usize),
  /// The first `limit` dead letters by id ([`NamedAnswer::Messages`]).
  DeadLetters(String, usize),
  /// Deletes a ready, delayed or waiting message; a group's head moves
  /// the group on ([`NamedAnswer::Changed`]: 1 or 0).
  Cancel(String, String),
  /// Dead letters (those of the ids, or all) back into the queue under
  /// their ids, attempts from zero, at the end of their group.
  Redrive(String, Option<Vec<String>>),
  /// Deletes every ready, delayed and waiting message, and with `true`
  /// every dead letter; running ones finish.
  Purge(String, bool),
  /// The counters and the oldest ready message's due time
  /// ([`NamedAnswer::Totals`]).
  Totals(String),
  /// The names of the queues with any message, dead letter or counter.
  Queues,
  /// The id of the message that holds a dedup id's window now
  /// ([`NamedAnswer::Dedup`]).
  DedupOf(String, String),
}

/// What [`NamedAdmin`] found or did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NamedAnswer {
  /// Ready, delayed, waiting, running, dead.
  Counts([u64; 5]),
  /// Messages or dead letters.
  Messages(Vec<NamedRow>),
  /// How many messages changed.
  Changed(u64),
  /// enqueued, acked, retried, dead; and the oldest due time of a ready
  /// message (due by now).
  Totals([i64; 4], Option<i64>),
  /// Queue names, sorted.
  Queues(Vec<String>),
  /// The first message's id, while its dedup window lasts.
  Dedup(Option<String>),
}

/// One message or dead letter, as the management API shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NamedRow {
  /// Its id.
  pub id: String,
  /// "ready", "delayed", "waiting" or "dead".
  pub state: &'static str,
  /// When it is due (for a dead letter: when it died).
  pub due: i64,
  /// When it was enqueued.
  pub enqueued_at: i64,
  /// Attempts made.
  pub attempts: i64,
  /// Its group and sequence number.
  pub group: Option<(String, i64)>,
  /// The last attempt's error.
  pub last_error: Option<String>,
  /// The V8 payload.
  pub payload: Vec<u8>,
}
