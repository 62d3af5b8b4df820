//! Opening a file. While another process holds the write lock, an
//! up-to-date file opens at once (no lock needed) and a file that needs
//! migrating waits a bounded time, then fails with a clear error instead of
//! looping forever. A file this process cannot write opens read-only.

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

/// Makes a file immutable (`chattr +i`), so even root cannot write it: the
/// only way a test running as root meets a read-only database file.
struct Immutable(String);

impl Immutable {
  fn new(path: &str) -> Immutable {
    let status = std::process::Command::new("chattr")
      .args(["+i", path])
      .status()
      .expect("chattr runs (e2fsprogs)");
    assert!(status.success(), "chattr +i {path}");
    Immutable(path.to_string())
  }
}

impl Drop for Immutable {
  fn drop(&mut self) {
    let _ = std::process::Command::new("chattr")
      .args(["-i", &self.0])
      .status();
  }
}

#[tokio::test]
async fn a_read_only_file_reads_and_refuses_writes_with_denos_message() {
  use kvq_core::KvValue;
  let (_dir, path) = common::temp_db();
  let store = Store::open(Some(&path), OpenOptions::default()).expect("create");
  let k = kvq_tests::key(&["k"]);
  let v = KvValue::Bytes(vec![7]);
  kvq_tests::commit(
    &store,
    kvq_tests::write(vec![kvq_tests::set(k.clone(), v)]),
  )
  .await;
  store.close();
  let _frozen = Immutable::new(&path);
  let store = Store::open(Some(&path), OpenOptions::default())
    .expect("a read-only file opens");
  let entry = kvq_tests::get(&store, &k).await.expect("reads work");
  assert!(matches!(entry.value, KvValue::Bytes(b) if b == [7]));
  let refused = store
    .atomic_write(kvq_tests::write(vec![kvq_tests::set(
      k,
      KvValue::Bytes(vec![8]),
    )]))
    .await
    .expect_err("writes are refused");
  assert_eq!(
    refused.to_string(),
    "Can not write to a read-only database."
  );
  assert_eq!(refused.code(), "KVQ_READ_ONLY");
  assert_eq!(refused.js_class(), kvq_core::JsClass::TypeError);
  store.close();
}

#[test]
fn many_opens_of_a_new_file_at_once_all_succeed() {
  for round in 0..5 {
    let (_dir, path) = common::temp_db();
    let opens: Vec<_> = (0..6)
      .map(|_| {
        let path = path.clone();
        std::thread::spawn(move || {
          Store::open(Some(&path), OpenOptions::default())
        })
      })
      .collect();
    for open in opens {
      match open.join().expect("join") {
        Ok(store) => store.close(),
        Err(e) => panic!("round {round}: {e}"),
      }
    }
  }
}

#[tokio::test]
async fn close_waits_a_bounded_time_for_a_lock_another_process_holds() {
  use kvq_core::engine::CLOSE_WAIT;
  let (_dir, path) = common::temp_db();
  let store = Store::open(Some(&path), OpenOptions::default()).expect("open");
  let holder = hold_write_lock(&path);
  // A write the engine cannot commit while the lock is held.
  let write = {
    let store = store.clone();
    tokio::spawn(async move {
      let k = kvq_tests::key(&["late"]);
      store
        .atomic_write(kvq_tests::write(vec![kvq_tests::set(
          k,
          kvq_core::KvValue::U64(1),
        )]))
        .await
    })
  };
  tokio::time::sleep(Duration::from_millis(50)).await;
  let started = Instant::now();
  store.close();
  let waited = started.elapsed();
  assert!(waited >= CLOSE_WAIT, "{waited:?}");
  assert!(waited < CLOSE_WAIT + Duration::from_secs(2), "{waited:?}");
  // Once the lock is free the engine finishes in the background: the
  // write commits and the file is closed.
  drop(holder);
  let committed = write.await.expect("join");
  assert!(matches!(committed, Ok(Some(_))), "{committed:?}");
}
