//! The hand-off on Postgres (postgres/queue.rs): a listener that found
//! nothing registers as waiting, and the transaction that enqueues a
//! message ready at once leases it to that listener and notifies it on
//! its own channel, so it runs without a claim's round trip. These tests
//! watch the protocol from the server's side: the registrations in
//! `queue_waiting`, the leases, and the notifications a psql session
//! receives when it stands in for a listener.

#[path = "postgres_common/mod.rs"]
mod pg;

use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use kvq_core::Outcome;
use kvq_core::QueueMessage;
use kvq_core::Store;
use kvq_tests::commit;
use kvq_tests::dequeue_within;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::parse_v8_string;
use kvq_tests::v8_string;

fn text(m: &QueueMessage) -> String {
  parse_v8_string(&m.payload).unwrap_or_default()
}

/// One row per message: `deadline is null` (ready) as t/f, in id order.
fn ready(url: &str) -> String {
  let s = pg::schema_of(url);
  pg::admin(&format!(
    "select string_agg((deadline is null)::text, ',' order by id) from {s}.queue"
  ))
}

/// The `free` of every registration, in store order.
fn registrations(url: &str) -> String {
  let s = pg::schema_of(url);
  pg::admin(&format!(
    "select coalesce(string_agg(free::text, ',' order by store), '') from {s}.queue_waiting"
  ))
}

/// Waits until the registrations read `want` (yielding: the listener
/// waiting is a task of this test's runtime).
async fn wait_for_registrations(url: &str, want: &str) {
  let until = Instant::now() + Duration::from_secs(5);
  while registrations(url) != want {
    assert!(
      Instant::now() < until,
      "registrations: {}",
      registrations(url)
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
}

async fn send(store: &Store, payload: &str) {
  let message = enqueue(v8_string(payload), 0, vec![], None);
  commit(store, enqueues(vec![message])).await;
}

/// A psql session standing in for store `ghost`'s listener: it holds
/// advisory lock `alive` and listens on the store's channel (one per
/// server: each test names its own ghost) for `seconds`, then prints
/// what it was sent.
fn ghost_session(ghost: &str, alive: i64, seconds: u32) -> Child {
  let url =
    std::env::var("KVQ_POSTGRES_ADMIN_URL").expect("KVQ_POSTGRES_ADMIN_URL");
  Command::new("psql")
    .args(["-X", "-q", "-t", "-A", &url])
    .args(["-c", &format!("select pg_advisory_lock({alive})")])
    .args(["-c", &format!("listen \"kvq_h_{ghost}\"")])
    .args(["-c", &format!("select pg_sleep({seconds})")])
    .stdout(Stdio::piped())
    .spawn()
    .expect("run psql")
}

/// Registers store `ghost` as waiting for `free` messages until `until`.
fn register_ghost(url: &str, ghost: &str, free: i32, until: i64, alive: i64) {
  let s = pg::schema_of(url);
  pg::admin(&format!(
    "insert into {s}.queue_waiting (store, free, until, lease_ms, alive) \
     values ('{ghost}', {free}, {until}, 30000, {alive}) \
     on conflict (store) do update set free = excluded.free, until = excluded.until"
  ));
}

#[tokio::test]
async fn a_waiting_listener_is_leased_the_message_by_the_enqueuing_transaction()
{
  let Some(url) = pg::url(
    "a_waiting_listener_is_leased_the_message_by_the_enqueuing_transaction",
  ) else {
    return;
  };
  let url = pg::fresh(&url);
  let producer = pg::open(&url, 30_000);
  let consumer = pg::open(&url, 30_000);
  let waiting = consumer.clone();
  let got = tokio::spawn(async move {
    dequeue_within(&waiting, 1, Duration::from_secs(5)).await
  });
  // Its claim found nothing: room for one more.
  wait_for_registrations(&url, "1").await;
  send(&producer, "handed").await;
  let got = got.await.expect("join");
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["handed"]);
  // The producer's transaction took the room; a claim of the consumer's
  // own that found the message would have removed the registration.
  assert_eq!(registrations(&url), "0");
  let done = got.iter().map(|m| (m.token, Outcome::Handled)).collect();
  consumer.finish(done).await.expect("finish");
  assert_eq!(ready(&url), "");
  producer.close();
  consumer.close();
}

#[tokio::test]
async fn a_store_claims_its_own_message_rather_than_hand_it_to_itself() {
  let Some(url) =
    pg::url("a_store_claims_its_own_message_rather_than_hand_it_to_itself")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let waiting = store.clone();
  let got = tokio::spawn(async move {
    dequeue_within(&waiting, 1, Duration::from_secs(5)).await
  });
  wait_for_registrations(&url, "1").await;
  send(&store, "mine").await;
  let got = got.await.expect("join");
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["mine"]);
  // Its engine knew of the message at its commit and claimed it: the
  // claim found all it asked for and removed the registration (a
  // hand-off would have left it at 0, and cost a notification's trip
  // through the server).
  assert_eq!(registrations(&url), "");
  store.close();
}

#[tokio::test]
async fn a_live_registration_gets_the_lease_and_the_payload_in_a_notification()
{
  let Some(url) = pg::url(
    "a_live_registration_gets_the_lease_and_the_payload_in_a_notification",
  ) else {
    return;
  };
  let url = pg::fresh(&url);
  let producer = pg::open(&url, 30_000);
  let alive = 0x6b76_7100_0000_0000 | (kvq_tests::now_ms() & 0xffff_ffff);
  let name = format!("ghost{alive:x}");
  let ghost = ghost_session(&name, alive, 2);
  std::thread::sleep(Duration::from_millis(300));
  let now = kvq_tests::now_ms();
  register_ghost(&url, &name, 2, now + 60_000, alive);
  send(&producer, "small").await;
  let large = "x".repeat(5000);
  send(&producer, &large).await;
  assert_eq!(ready(&url), "false,false", "both leased to the ghost");
  assert_eq!(registrations(&url), "0");
  // A stale registration gets nothing, even with its session alive.
  register_ghost(&url, &name, 5, now - 1, alive);
  send(&producer, "stale").await;
  assert_eq!(ready(&url), "false,false,true");
  let out = ghost.wait_with_output().expect("psql");
  let out = String::from_utf8_lossy(&out.stdout);
  let payloads: Vec<&str> = out
    .lines()
    .filter_map(|l| l.split("with payload \"").nth(1))
    .filter_map(|l| l.split('"').next())
    .collect();
  assert_eq!(payloads.len(), 2, "{out}");
  let s = pg::schema_of(&url);
  let leases = pg::admin(&format!(
    "select string_agg(id || ' ' || deadline, ',' order by id) from {s}.queue \
     where deadline is not null"
  ));
  let leases: Vec<&str> = leases.split(',').collect();
  let hex: String = v8_string("small")
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
  assert_eq!(payloads[0], format!("{} d{hex}", leases[0]));
  // Too large to carry: the listener reads it by its lease.
  assert_eq!(payloads[1], format!("{} f", leases[1]));
  let deadline: i64 = leases[0]
    .split(' ')
    .nth(1)
    .and_then(|d| d.parse().ok())
    .unwrap_or(0);
  assert!(
    (now + 29_000..now + 32_000).contains(&deadline),
    "leased for the registration's 30 s: {} ms",
    deadline - now
  );
  producer.close();
}

#[tokio::test]
async fn a_registration_whose_session_is_gone_gets_nothing() {
  let Some(url) = pg::url("a_registration_whose_session_is_gone_gets_nothing")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let producer = pg::open(&url, 30_000);
  // As a killed process leaves it: fresh, with room, its lock free.
  let alive = 0x6b76_7200_0000_0000 | (kvq_tests::now_ms() & 0xffff_ffff);
  let name = format!("ghost{alive:x}");
  register_ghost(&url, &name, 5, kvq_tests::now_ms() + 60_000, alive);
  send(&producer, "kept").await;
  assert_eq!(ready(&url), "true", "not leased to a dead session");
  assert_eq!(registrations(&url), "5");
  let consumer = pg::open(&url, 30_000);
  let got = dequeue_within(&consumer, 1, Duration::from_secs(3)).await;
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["kept"]);
  producer.close();
  consumer.close();
}

#[tokio::test]
async fn a_message_handed_to_a_listener_that_stopped_comes_back_at_once() {
  let Some(url) =
    pg::url("a_message_handed_to_a_listener_that_stopped_comes_back_at_once")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let producer = pg::open(&url, 30_000);
  let stopped = pg::open(&url, 30_000);
  // A listener that waited, found nothing and stopped: its registration
  // outlives it for a moment.
  let none = dequeue_within(&stopped, 1, Duration::from_millis(300)).await;
  assert!(none.is_empty());
  assert_eq!(registrations(&url), "1");
  let t = Instant::now();
  send(&producer, "returned").await;
  let got = dequeue_within(&producer, 1, Duration::from_secs(5)).await;
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["returned"]);
  assert!(
    t.elapsed() < Duration::from_secs(2),
    "back after {:?}, not after the 30 s lease",
    t.elapsed()
  );
  // Released, not failed: the attempt it never ran does not count.
  let s = pg::schema_of(&url);
  let attempts = pg::admin(&format!("select attempts from {s}.queue"));
  assert_eq!(attempts, "1");
  // And the store that had no use for it is no longer registered.
  assert_eq!(registrations(&url), "");
  let done = got.iter().map(|m| (m.token, Outcome::Handled)).collect();
  producer.finish(done).await.expect("finish");
  producer.close();
  stopped.close();
}
