//! Opening SQLite connections: flags, pragmas, the busy handler, the
//! bounded wait for another process's lock at open, and the errors a user
//! sees when a file cannot be opened.

use std::time::Duration;
use std::time::Instant;

use rusqlite::config::DbConfig;
use rusqlite::Connection;
use rusqlite::OpenFlags;

use super::schema;
use crate::engine::Durability;
use crate::error::Error;
use crate::error::Result;

/// How many 1 ms naps the worker's connection takes waiting for another
/// process's lock (about 5 s) before the engine's retry loop takes over.
const BUSY_NAPS: i32 = 5000;

/// The longest `open` waits for another process's write lock (a migration
/// of a new or older file needs it) before it fails with
/// [`Error::Locked`]. An up-to-date file needs no lock to open.
pub const OPEN_LOCK_WAIT: Duration = Duration::from_secs(5);

/// A writer connection, and whether the file could only be opened for
/// reading (Deno then refuses every write and runs no queue).
pub struct Opened {
  /// The connection.
  pub conn: Connection,
  /// True when the file is read-only to this process.
  pub readonly: bool,
}

/// Opens (creating if needed) and configures the writer connection,
/// migrating the file to Deno's schema. Runs on a thread of its own, never
/// a JavaScript one: it may wait up to [`OPEN_LOCK_WAIT`] for a lock.
pub fn open(path: Option<&str>, durability: Durability) -> Result<Opened> {
  let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
    | OpenFlags::SQLITE_OPEN_CREATE
    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
  let mut conn = match path {
    None => Connection::open_in_memory(),
    Some(p) => Connection::open_with_flags(p, flags),
  }
  .map_err(|e| open_error(e, path))?;
  let readonly = conn
    .is_readonly(rusqlite::MAIN_DB)
    .map_err(|e| open_error(e, path))?;
  keep_plans(&conn).map_err(|e| reword(e, path))?;
  if readonly {
    // As Deno: no WAL switch and no migration on a file we cannot write.
    conn
      .busy_timeout(OPEN_LOCK_WAIT)
      .map_err(|e| open_error(e, path))?;
    return Ok(Opened { conn, readonly });
  }
  let started = Instant::now();
  conn
    .busy_handler(Some(nap_while_opening))
    .map_err(|e| open_error(e, path))?;
  // SQLite answers "busy" at once, without its busy handler, where waiting
  // could deadlock: two connections switching a new file to WAL, or
  // migrating it, at the same moment (several processes, or several opens
  // in one, starting together). So the whole step is tried again until the
  // same bounded wait is over.
  loop {
    match prepare(&mut conn, durability) {
      Ok(()) => break,
      Err(e) if is_busy(&e) && started.elapsed() < OPEN_LOCK_WAIT => {
        let nap = rand::Rng::gen_range(&mut rand::thread_rng(), 1..8);
        std::thread::sleep(Duration::from_millis(nap));
      }
      Err(Error::Sqlite(e)) => return Err(locked_or(e, path, started)),
      Err(e) => return Err(e),
    }
  }
  conn
    .busy_handler(Some(nap_while_busy))
    .map_err(|e| open_error(e, path))?;
  Ok(Opened { conn, readonly })
}

/// How long a caller-thread read waits on a lock before it hands the read
/// to the worker instead: not at all. The caller's thread is a JavaScript
/// event loop; in WAL mode a reader is almost never blocked, and when it is
/// (a WAL being recovered or restarted) the worker waits instead.
const READER_BUSY_TIMEOUT: Duration = Duration::ZERO;

/// Opens a second connection to a file, used only for reads on the
/// caller's thread (no hop to the worker, no wait behind an fsync).
pub fn open_reader(path: &str) -> Result<Connection> {
  let flags =
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
  let conn = Connection::open_with_flags(path, flags)
    .map_err(|e| open_error(e, Some(path)))?;
  conn
    .busy_timeout(READER_BUSY_TIMEOUT)
    .map_err(|e| open_error(e, Some(path)))?;
  keep_plans(&conn).map_err(|e| reword(e, Some(path)))?;
  Ok(conn)
}

/// Keeps every statement kvq runs prepared once per connection. The cache
/// holds them all; the planner flag stops SQLite from throwing a plan away
/// whenever a `limit ?` is bound again (SQLite 3.50 plans with the bound
/// limit and so re-prepares the statement on the next step): without it
/// every range read and every claim of due messages parsed its SQL anew.
fn keep_plans(conn: &Connection) -> Result<()> {
  conn.set_prepared_statement_cache_capacity(64);
  conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
  Ok(())
}

/// SQLite's own busy handler backs off to 100 ms naps, so a waiter
/// oversleeps a lock held for a few milliseconds; with several processes on
/// one file that delay can outlast a short lease. Napping 1 ms at a time
/// takes the lock soon after it is free.
fn nap_while_busy(attempt: i32) -> bool {
  if attempt >= BUSY_NAPS {
    return false;
  }
  std::thread::sleep(Duration::from_millis(1));
  true
}

/// WAL mode, the durability setting and Deno's schema, on a writable
/// connection.
fn prepare(conn: &mut Connection, durability: Durability) -> Result<()> {
  conn.pragma_update(None, "journal_mode", "wal")?;
  let sync = match durability {
    Durability::Full => "full",
    Durability::Relaxed => "normal",
  };
  conn.pragma_update(None, "synchronous", sync)?;
  schema::migrate(conn)
}

/// Naps 1 ms at a time, like [`nap_while_busy`], but only for
/// [`OPEN_LOCK_WAIT`] in all (SQLite counts attempts, not time).
fn nap_while_opening(attempt: i32) -> bool {
  let naps = OPEN_LOCK_WAIT.as_millis() as i32;
  if attempt >= naps {
    return false;
  }
  std::thread::sleep(Duration::from_millis(1));
  true
}

/// An error met while opening: the file, not the request, is at fault, so
/// it is a plain `Error` in JavaScript, as in Deno.
pub fn open_error(e: rusqlite::Error, path: Option<&str>) -> Error {
  let name = path.unwrap_or(":memory:").to_string();
  match e.sqlite_error_code() {
    Some(rusqlite::ErrorCode::NotADatabase) => Error::NotADatabase,
    Some(rusqlite::ErrorCode::CannotOpen) => Error::CannotOpen(name),
    _ => Error::OpenFailed(e.to_string()),
  }
}

fn reword(e: Error, path: Option<&str>) -> Error {
  match e {
    Error::Sqlite(e) => open_error(e, path),
    other => other,
  }
}

/// A busy error at open means the wait ran out: say so, and for how long.
fn locked_or(
  e: rusqlite::Error,
  path: Option<&str>,
  started: Instant,
) -> Error {
  if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) {
    return Error::Locked {
      path: path.unwrap_or(":memory:").to_string(),
      waited_ms: started.elapsed().as_millis() as u64,
    };
  }
  open_error(e, path)
}

/// Whether an error is SQLite's "another connection holds the lock".
pub fn is_busy(e: &Error) -> bool {
  matches!(e, Error::Sqlite(e)
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy))
}
