//! Opening while another process holds the write lock: an up-to-date file
//! opens at once (no lock needed), a file that needs migrating waits a
//! bounded time, then fails with a clear error instead of looping forever.

mod common;

use std::time::Duration;
use std::time::Instant;

use kvq_core::sqlite::OPEN_LOCK_WAIT;
use kvq_core::OpenOptions;
use kvq_core::Store;

/// Another connection's open write transaction on `path`.
fn hold_write_lock(path: &str) -> rusqlite::Connection {
  let conn = rusqlite::Connection::open(path).expect("open");
  conn
    .pragma_update(None, "journal_mode", "wal")
    .expect("wal");
  conn.execute_batch("begin immediate").expect("lock");
  conn
}

#[test]
fn an_up_to_date_file_opens_while_another_writer_holds_the_lock() {
  let (_dir, path) = common::temp_db();
  Store::open(Some(&path), OpenOptions::default())
    .expect("create")
    .close();
  let holder = hold_write_lock(&path);
  let started = Instant::now();
  let store = Store::open(Some(&path), OpenOptions::default()).expect("open");
  assert!(started.elapsed() < Duration::from_secs(1));
  store.close();
  drop(holder);
}

#[test]
fn a_file_that_needs_migrating_gives_up_after_a_bounded_wait() {
  let (_dir, path) = common::temp_db();
  // A fresh file, locked before kvq can create its tables.
  let holder = hold_write_lock(&path);
  let started = Instant::now();
  let Err(error) = Store::open(Some(&path), OpenOptions::default()) else {
    panic!("opened a file it could not migrate");
  };
  let waited = started.elapsed();
  assert_eq!(error.code(), "KVQ_LOCKED", "{error}");
  assert_eq!(error.js_class(), kvq_core::JsClass::Error);
  assert!(error.to_string().contains(&path), "{error}");
  assert!(waited >= OPEN_LOCK_WAIT, "{waited:?}");
  assert!(waited < OPEN_LOCK_WAIT * 2, "{waited:?}");
  drop(holder);
  // Once the lock is free, the same file opens.
  Store::open(Some(&path), OpenOptions::default())
    .expect("open after")
    .close();
}
