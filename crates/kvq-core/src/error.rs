//! The one error type of the engine.
//!
//! Every variant knows the JavaScript class it becomes ([`Error::js_class`])
//! and a stable `KVQ_*` code ([`Error::code`]), so both bindings report a
//! failure the same way and the TypeScript layer never matches on message
//! text. Messages are Deno 2.9.6's, word for word, where Deno has one.

use std::fmt;

/// The JavaScript error class an [`Error`] turns into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsClass {
  /// A plain `Error`.
  Error = 0,
  /// `TypeError`.
  TypeError = 1,
  /// `RangeError`.
  RangeError = 2,
  /// Deno's `BadResource` ("Bad resource ID").
  BadResource = 3,
}

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
  // ----- invalid input: each carries the limit it exceeded -----
  /// A write key is empty.
  #[error("key cannot be empty")]
  EmptyKey,
  /// A write or check key is longer than the write limit.
  #[error("Key too large for write (max {0} bytes)")]
  KeyTooLargeToWrite(usize),
  /// A read key (get, range bound, watch) is longer than the read limit.
  #[error("Key too large for read (max {0} bytes)")]
  KeyTooLargeToRead(usize),
  /// A value is larger than the value limit.
  #[error("Value too large (max {0} bytes)")]
  ValueTooLarge(usize),
  /// An enqueue payload is larger than the value limit.
  #[error("enqueue payload too large (max {0} bytes)")]
  EnqueuePayloadTooLarge(usize),
  /// More checks than allowed in one atomic write.
  #[error("Too many checks (max {0})")]
  TooManyChecks(usize),
  /// More mutations plus enqueues than allowed in one atomic write.
  #[error("Too many mutations (max {0})")]
  TooManyMutations(usize),
  /// The summed size of an atomic write is over the limit.
  #[error("Total mutation size too large (max {0} bytes)")]
  TotalMutationTooLarge(usize),
  /// The summed key size of an atomic write is over the limit.
  #[error("Total key size too large (max {0} bytes)")]
  TotalKeyTooLarge(usize),
  /// More ranges than allowed in one snapshot read.
  #[error("Too many ranges (max {0})")]
  TooManyRanges(usize),
  /// The summed limits of a snapshot read are over the limit.
  #[error("Too many entries (max {0})")]
  TooManyEntries(usize),
  /// More keys than allowed in one watch.
  #[error("Too many keys (max {0})")]
  TooManyWatchedKeys(usize),
  /// An expiry that does not fit in a date.
  #[error("Invalid mutation: expireIn is too large: {0}")]
  ExpireInTooLarge(i64),
  /// A sum/min/max whose operand or stored value has the wrong type; the
  /// message is Deno's for the case.
  #[error("{0}")]
  TypeMismatch(String),
  /// A stored value with an encoding this engine does not know.
  #[error("The value encoding {0} is unknown.")]
  UnknownValueEncoding(i64),
  /// A request buffer from a binding that does not decode; a bug in the
  /// TypeScript layer or a version mismatch between it and the library.
  #[error("malformed request: {0}")]
  Malformed(String),
  /// An option of `openKv` that kvq does not accept.
  #[error("{0}")]
  InvalidOption(String),
  /// Inside a backend only: a named enqueue promised as no duplicate met
  /// one at commit; the write is undone as a failed check (never reaches
  /// a caller).
  #[error("a deduplication id was taken before the commit")]
  DuplicateAtCommit,
  /// A kvq feature this store's backend does not carry (the message says
  /// which, and what to use instead).
  #[error("{0}")]
  Unsupported(String),

  // ----- state -----
  /// The database was closed while the operation was in flight.
  #[error("Database is closed.")]
  Closed,
  /// The file could only be opened for reading (Deno's message).
  #[error("Can not write to a read-only database.")]
  ReadOnly,
  /// The engine stopped after a panic or a fatal storage error: every
  /// pending and later call gets this, with the cause.
  #[error("The database was closed after an unrecoverable error: {0}")]
  Failed(String),

  // ----- storage -----
  /// The path could not be opened as a database file.
  #[error("unable to open database file: {0}")]
  CannotOpen(String),
  /// The file exists but is not a SQLite database, or is corrupt.
  #[error("file is not a database")]
  NotADatabase,
  /// Any other failure while opening the file.
  #[error("{0}")]
  OpenFailed(String),
  /// Another process held the write lock for longer than `openKv` waits
  /// (the file needed creating or migrating).
  #[error(
    "database is locked: another process held the write lock of '{path}' \
     for {waited_ms} ms while it was being opened"
  )]
  Locked {
    /// The file.
    path: String,
    /// How long `openKv` waited.
    waited_ms: u64,
  },
  /// Any other SQLite failure.
  #[error("{0}")]
  Sqlite(#[from] rusqlite::Error),
  /// A SQLite failure that failed a whole group of requests (a disk that is
  /// full or read-only, an I/O error): each request gets its text.
  #[error("{0}")]
  Storage(String),
  /// A Postgres failure (a lost connection, a refused statement), with
  /// where and why; never the password.
  #[error("{0}")]
  Postgres(String),
  /// A KV Connect call that failed (a 4xx answer, a server that stayed
  /// unreachable past the retries), with Deno's message; never a token.
  #[error("{0}")]
  Remote(String),
  /// `openKv` of a KV Connect URL failed: Deno's TypeError "Could not open
  /// Deno KV database: ...".
  #[error("{0}")]
  RemoteOpen(String),

  // ----- internal -----
  /// A bug: a panic caught at the boundary, or an invariant that broke.
  #[error("internal error: {0}")]
  Internal(String),
}

impl Error {
  /// A stable machine-readable code, `KVQ_UPPER_SNAKE`.
  pub fn code(&self) -> &'static str {
    match self {
      Error::EmptyKey => "KVQ_EMPTY_KEY",
      Error::KeyTooLargeToWrite(_) | Error::KeyTooLargeToRead(_) => {
        "KVQ_KEY_TOO_LARGE"
      }
      Error::ValueTooLarge(_) | Error::EnqueuePayloadTooLarge(_) => {
        "KVQ_VALUE_TOO_LARGE"
      }
      Error::TooManyChecks(_)
      | Error::TooManyMutations(_)
      | Error::TotalMutationTooLarge(_)
      | Error::TotalKeyTooLarge(_)
      | Error::TooManyRanges(_)
      | Error::TooManyEntries(_)
      | Error::TooManyWatchedKeys(_) => "KVQ_LIMIT_EXCEEDED",
      Error::ExpireInTooLarge(_) => "KVQ_INVALID_EXPIRY",
      Error::TypeMismatch(_) => "KVQ_TYPE_MISMATCH",
      Error::UnknownValueEncoding(_) => "KVQ_UNKNOWN_ENCODING",
      Error::Malformed(_) => "KVQ_MALFORMED_REQUEST",
      Error::InvalidOption(_) => "KVQ_INVALID_OPTION",
      Error::Unsupported(_) => "KVQ_UNSUPPORTED",
      Error::DuplicateAtCommit => "KVQ_DUPLICATE",
      Error::Closed => "KVQ_CLOSED",
      Error::ReadOnly => "KVQ_READ_ONLY",
      Error::Failed(_) => "KVQ_FAILED",
      Error::OpenFailed(_) => "KVQ_CANNOT_OPEN",
      Error::Locked { .. } => "KVQ_LOCKED",
      Error::CannotOpen(_) => "KVQ_CANNOT_OPEN",
      Error::NotADatabase => "KVQ_NOT_A_DATABASE",
      Error::Sqlite(_) | Error::Storage(_) => "KVQ_SQLITE",
      Error::Postgres(_) => "KVQ_POSTGRES",
      Error::Remote(_) => "KVQ_REMOTE",
      Error::RemoteOpen(_) => "KVQ_CANNOT_OPEN",
      Error::Internal(_) => "KVQ_INTERNAL",
    }
  }

  /// The JavaScript class Deno uses for this failure.
  pub fn js_class(&self) -> JsClass {
    match self {
      Error::CannotOpen(_)
      | Error::NotADatabase
      | Error::OpenFailed(_)
      | Error::Locked { .. }
      | Error::Failed(_)
      | Error::Postgres(_)
      | Error::Remote(_)
      | Error::Internal(_) => JsClass::Error,
      _ => JsClass::TypeError,
    }
  }

  /// The same error, for one more caller: a SQLite error (which cannot be
  /// cloned) becomes [`Error::Storage`] with its text and code group.
  pub fn clone_for_reply(&self) -> Error {
    match self {
      Error::Sqlite(e) => Error::Storage(e.to_string()),
      Error::EmptyKey => Error::EmptyKey,
      Error::KeyTooLargeToWrite(n) => Error::KeyTooLargeToWrite(*n),
      Error::KeyTooLargeToRead(n) => Error::KeyTooLargeToRead(*n),
      Error::ValueTooLarge(n) => Error::ValueTooLarge(*n),
      Error::EnqueuePayloadTooLarge(n) => Error::EnqueuePayloadTooLarge(*n),
      Error::TooManyChecks(n) => Error::TooManyChecks(*n),
      Error::TooManyMutations(n) => Error::TooManyMutations(*n),
      Error::TotalMutationTooLarge(n) => Error::TotalMutationTooLarge(*n),
      Error::TotalKeyTooLarge(n) => Error::TotalKeyTooLarge(*n),
      Error::TooManyRanges(n) => Error::TooManyRanges(*n),
      Error::TooManyEntries(n) => Error::TooManyEntries(*n),
      Error::TooManyWatchedKeys(n) => Error::TooManyWatchedKeys(*n),
      Error::ExpireInTooLarge(n) => Error::ExpireInTooLarge(*n),
      Error::TypeMismatch(m) => Error::TypeMismatch(m.clone()),
      Error::UnknownValueEncoding(n) => Error::UnknownValueEncoding(*n),
      Error::Malformed(m) => Error::Malformed(m.clone()),
      Error::InvalidOption(m) => Error::InvalidOption(m.clone()),
      Error::Unsupported(m) => Error::Unsupported(m.clone()),
      Error::DuplicateAtCommit => Error::DuplicateAtCommit,
      Error::Closed => Error::Closed,
      Error::ReadOnly => Error::ReadOnly,
      Error::Failed(m) => Error::Failed(m.clone()),
      Error::CannotOpen(m) => Error::CannotOpen(m.clone()),
      Error::NotADatabase => Error::NotADatabase,
      Error::OpenFailed(m) => Error::OpenFailed(m.clone()),
      Error::Locked { path, waited_ms } => Error::Locked {
        path: path.clone(),
        waited_ms: *waited_ms,
      },
      Error::Storage(m) => Error::Storage(m.clone()),
      Error::Postgres(m) => Error::Postgres(m.clone()),
      Error::Remote(m) => Error::Remote(m.clone()),
      Error::RemoteOpen(m) => Error::RemoteOpen(m.clone()),
      Error::Internal(m) => Error::Internal(m.clone()),
    }
  }

  /// Whether the storage can no longer be trusted (a corrupt file, one
  /// that is no longer a database): the engine stops rather than write.
  pub fn is_fatal(&self) -> bool {
    use rusqlite::ErrorCode;
    match self {
      Error::Sqlite(e) => matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
      ),
      Error::NotADatabase | Error::Failed(_) => true,
      _ => false,
    }
  }

  /// Turns a panic payload caught at a boundary into an [`Error::Internal`].
  pub fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
    let text = payload
      .downcast_ref::<&str>()
      .map(|s| s.to_string())
      .or_else(|| payload.downcast_ref::<String>().cloned())
      .unwrap_or_else(|| "panic".to_string());
    Error::Internal(text)
  }
}

impl fmt::Display for JsClass {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let name = match self {
      JsClass::Error => "Error",
      JsClass::TypeError => "TypeError",
      JsClass::RangeError => "RangeError",
      JsClass::BadResource => "BadResource",
    };
    f.write_str(name)
  }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
