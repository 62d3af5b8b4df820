//! Helpers for the Postgres tests: the server's URL (given by
//! scripts/pg.sh), a fresh schema per test, psql as the server's own
//! client, and the control script that restarts the server.
//!
//! Without `KVQ_POSTGRES_URL` every Postgres test says so loudly on the
//! terminal and returns: run them with `scripts/pg.sh cargo test -p
//! kvq-tests --test 'postgres_*'` (`make test` does).
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::process::Command;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;
use std::time::Instant;

use kvq_core::Error;
use kvq_core::OpenOptions;
use kvq_core::Store;

/// The server's URL, or `None` after a loud notice that the test did not
/// run.
pub fn url(test: &str) -> Option<String> {
  match std::env::var("KVQ_POSTGRES_URL") {
    Ok(url) if !url.is_empty() => Some(url),
    _ => {
      // Written to the terminal itself, past the test harness's capture.
      let _ = writeln!(
        std::io::stderr(),
        "\n!!! {test}: NOT RUN: no Postgres (KVQ_POSTGRES_URL is unset); \
         run it with scripts/pg.sh cargo test -p kvq-tests --test 'postgres_*'\n"
      );
      None
    }
  }
}

/// `url` with a schema of its own (`t_<random>`), so tests never share
/// data.
pub fn fresh(url: &str) -> String {
  let schema = format!("t_{:016x}", rand_u64());
  with_param(url, "schema", &schema)
}

/// `url` with `key=value` added to its query.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
  let sep = if url.contains('?') { '&' } else { '?' };
  format!("{url}{sep}{key}={value}")
}

/// The schema a URL made by [`fresh`] names.
pub fn schema_of(url: &str) -> String {
  url
    .split(['?', '&'])
    .find_map(|p| p.strip_prefix("schema="))
    .unwrap_or("kvq")
    .to_string()
}

fn rand_u64() -> u64 {
  use std::collections::hash_map::RandomState;
  use std::hash::BuildHasher;
  RandomState::new().hash_one(std::time::SystemTime::now())
}

/// Opens a store on the URL with this lease.
pub fn open(url: &str, lease_ms: u64) -> Store {
  try_open(url, lease_ms).expect("open a Postgres store")
}

/// Opens a store, or says why not.
pub fn try_open(url: &str, lease_ms: u64) -> kvq_core::Result<Store> {
  let options = OpenOptions {
    lease: Duration::from_millis(lease_ms),
    ..OpenOptions::default()
  };
  kvq_core::postgres::open_store(url, "", options)
}

/// Runs SQL as the server's superuser through psql; returns its output
/// (unaligned, tuples only).
pub fn admin(sql: &str) -> String {
  let url =
    std::env::var("KVQ_POSTGRES_ADMIN_URL").expect("KVQ_POSTGRES_ADMIN_URL");
  psql(&url, sql)
}

/// Runs SQL through psql on `url`; returns its output.
pub fn psql(url: &str, sql: &str) -> String {
  let out = Command::new("psql")
    .args([
      "-X",
      "-q",
      "-t",
      "-A",
      "-v",
      "ON_ERROR_STOP=1",
      url,
      "-c",
      sql,
    ])
    .output()
    .expect("run psql");
  assert!(
    out.status.success(),
    "psql failed: {}",
    String::from_utf8_lossy(&out.stderr)
  );
  String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Stops, starts or restarts the server (scripts/pg.sh's control script).
pub fn ctl(action: &str) {
  let ctl = std::env::var("KVQ_POSTGRES_CTL").expect("KVQ_POSTGRES_CTL");
  let status = Command::new(ctl).arg(action).status().expect("run ctl");
  assert!(status.success(), "pg ctl {action} failed");
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Held by each test that takes the shared server down or kills its
/// sessions, so that those tests of one file run one at a time (a
/// panicked one's lock is taken over).
pub fn serial() -> MutexGuard<'static, ()> {
  ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// For a test that takes the shared server down: the lock that keeps the
/// others waiting (held while the guard lives) and a fresh schema's URL;
/// `None` without Postgres (see [`url`]).
pub fn alone(test: &str) -> Option<(MutexGuard<'static, ()>, String)> {
  let url = url(test)?;
  let guard = serial();
  Some((guard, fresh(&url)))
}

/// A failure must say it is Postgres's and where; never a silent loss.
pub fn assert_clear(e: &Error) {
  let text = e.to_string();
  assert!(
    matches!(e, Error::Postgres(_)) && text.contains("Postgres at 127.0.0.1"),
    "unclear error: {e:?}"
  );
}

/// Ends every session kvq holds on the server (the pool's and the
/// listener's); returns how many.
pub fn terminate_kvq_sessions() -> usize {
  let n = admin(
    "select count(pg_terminate_backend(pid)) from pg_stat_activity \
     where application_name = 'kvq' and pid <> pg_backend_pid()",
  );
  n.parse().unwrap_or(0)
}

/// Makes attempt 0, 1, 2, … (each awaited, 2 ms apart) while the server
/// restarts (from 300 ms in), until the restart is over and ten in a row
/// succeeded. Each attempt must succeed or fail with a clear error
/// ([`assert_clear`]); a failed check is a bug (none is made). Returns
/// the numbers of those that succeeded and of those that failed.
pub async fn through_a_restart<T, F, Fut>(
  what: &str,
  mut attempt: F,
) -> (Vec<usize>, Vec<usize>)
where
  F: FnMut(usize) -> Fut,
  Fut: Future<Output = Result<Option<T>, Error>>,
{
  let restarter = std::thread::spawn(|| {
    std::thread::sleep(Duration::from_millis(300));
    ctl("restart");
  });
  let (mut acknowledged, mut failed) = (Vec::new(), Vec::new());
  let mut streak = 0;
  let started = Instant::now();
  for i in 0.. {
    let t = Instant::now();
    let result = attempt(i).await;
    if t.elapsed() > Duration::from_millis(100) {
      eprintln!(
        "{what} {i} took {:?}: {:?}",
        t.elapsed(),
        result.as_ref().err()
      );
    }
    match result {
      Ok(Some(_)) => {
        acknowledged.push(i);
        streak += 1;
      }
      Ok(None) => panic!("no check, yet a check failed"),
      Err(e) => {
        assert_clear(&e);
        if failed.len() < 3 {
          eprintln!("{what} {i} failed: {e}");
        }
        failed.push(i);
        streak = 0;
      }
    }
    if restarter.is_finished() && streak >= 10 {
      break;
    }
    assert!(
      started.elapsed() < Duration::from_secs(30),
      "no recovery: {} acknowledged, {} failed, restarted: {}",
      acknowledged.len(),
      failed.len(),
      restarter.is_finished()
    );
    tokio::time::sleep(Duration::from_millis(2)).await;
  }
  restarter.join().expect("restart");
  eprintln!(
    "{} {what}s acknowledged, {} failed clearly, in {:?}",
    acknowledged.len(),
    failed.len(),
    started.elapsed()
  );
  // Else the loop never met the outage, and showed nothing about it.
  assert!(!failed.is_empty(), "the restart failed no {what}");
  (acknowledged, failed)
}
