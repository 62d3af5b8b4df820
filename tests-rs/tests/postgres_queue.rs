//! Queue semantics on Postgres: batched claims, delivery across stores,
//! delays, retries and dead letters, released and lapsed leases, renewal.

#[path = "postgres_common/mod.rs"]
mod pg;

use std::time::Duration;
use std::time::Instant;

use kvq_core::KvValue;
use kvq_core::Outcome;
use kvq_tests::commit;
use kvq_tests::dequeue_within;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::get;
use kvq_tests::key;
use kvq_tests::parse_v8_string;
use kvq_tests::v8_string;

fn text(m: &kvq_core::QueueMessage) -> String {
  parse_v8_string(&m.payload).unwrap_or_default()
}

fn count(url: &str) -> i64 {
  let sql = format!("select count(*) from {}.queue", pg::schema_of(url));
  pg::admin(&sql).parse().unwrap_or(-1)
}

#[tokio::test]
async fn a_claim_takes_many_messages_in_order_and_acks_delete_them() {
  let Some(url) =
    pg::url("a_claim_takes_many_messages_in_order_and_acks_delete_them")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let batch: Vec<_> = (0..500)
    .map(|i| enqueue(v8_string(&format!("m{i:04}")), 0, vec![], None))
    .collect();
  commit(&store, enqueues(batch)).await;
  let got = dequeue_within(&store, 1000, Duration::from_secs(5)).await;
  assert_eq!(got.len(), 500, "one claim took every due message");
  let texts: Vec<String> = got.iter().map(text).collect();
  let mut sorted = texts.clone();
  sorted.sort();
  assert_eq!(texts, sorted, "delivered in enqueue order");
  let results = got.iter().map(|m| (m.token, Outcome::Handled)).collect();
  store.finish(results).await.expect("finish");
  assert_eq!(count(&url), 0);
  store.close();
}

#[tokio::test]
async fn another_stores_enqueue_is_delivered_within_milliseconds() {
  let Some(url) =
    pg::url("another_stores_enqueue_is_delivered_within_milliseconds")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let producer = pg::open(&url, 30_000);
  let consumer = pg::open(&url, 30_000);
  // Let the consumer's LISTEN session settle.
  let _ = dequeue_within(&consumer, 1, Duration::from_millis(300)).await;
  let mut samples = Vec::new();
  for i in 0..30 {
    let waiting = consumer.clone();
    let got = tokio::spawn(async move {
      let m = dequeue_within(&waiting, 1, Duration::from_secs(5)).await;
      (Instant::now(), m)
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let sent = Instant::now();
    let message = enqueue(v8_string(&format!("x{i}")), 0, vec![], None);
    commit(&producer, enqueues(vec![message])).await;
    let (at, m) = got.await.expect("join");
    assert_eq!(m.len(), 1, "message {i} arrived");
    samples.push(at.duration_since(sent).as_secs_f64() * 1000.0);
    let done = m.iter().map(|m| (m.token, Outcome::Handled)).collect();
    consumer.finish(done).await.expect("finish");
  }
  let summary = kvq_tests::summary_ms(&mut samples);
  eprintln!("enqueue to another store's dequeue: {summary}");
  assert!(samples[samples.len() / 2] < 50.0, "{summary}");
  producer.close();
  consumer.close();
}

#[tokio::test]
async fn a_delayed_message_comes_on_time() {
  let Some(url) = pg::url("a_delayed_message_comes_on_time") else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let other = pg::open(&url, 30_000);
  let due = kvq_tests::now_ms() + 400;
  let message = enqueue(v8_string("later"), 400, vec![], None);
  commit(&other, enqueues(vec![message])).await;
  let got = dequeue_within(&store, 1, Duration::from_secs(3)).await;
  let late = kvq_tests::now_ms() - due;
  assert_eq!(got.len(), 1);
  assert!((0..200).contains(&late), "came {late} ms after its time");
  store.close();
  other.close();
}

#[tokio::test]
async fn failures_retry_along_the_schedule_then_dead_letter() {
  let Some(url) = pg::url("failures_retry_along_the_schedule_then_dead_letter")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let dead = vec![key(&["dead", "a"]), key(&["dead", "b"])];
  let message = enqueue(v8_string("r"), 0, dead.clone(), Some(vec![20, 40]));
  commit(&store, enqueues(vec![message])).await;
  let mut attempts = 0;
  loop {
    let got = dequeue_within(&store, 1, Duration::from_millis(800)).await;
    let Some(m) = got.first() else { break };
    attempts += 1;
    store
      .finish(vec![(m.token, Outcome::Failed)])
      .await
      .expect("finish");
  }
  assert_eq!(attempts, 3, "one try and two retries");
  for k in &dead {
    let entry = get(&store, k).await.expect("dead letter written");
    assert!(matches!(entry.value, KvValue::V8(ref v) if *v == v8_string("r")));
  }
  assert_eq!(count(&url), 0);
  store.close();
}

#[tokio::test]
async fn a_dead_processs_lease_is_swept_and_delivered_again() {
  let Some(url) = pg::url("a_dead_processs_lease_is_swept_and_delivered_again")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 200);
  // A message leased by a process that died long ago.
  let payload: String = v8_string("orphan")
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
  pg::admin(&format!(
    "insert into {}.queue (ts, deadline, data, backoff_schedule, keys_if_undelivered) \
     values (0, 1, '\\x{payload}'::bytea, '[10]', '[]')",
    pg::schema_of(&url)
  ));
  let got = dequeue_within(&store, 1, Duration::from_secs(3)).await;
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["orphan"]);
  let done = got.iter().map(|m| (m.token, Outcome::Handled)).collect();
  store.finish(done).await.expect("finish");
  assert_eq!(count(&url), 0);
  store.close();
}

#[tokio::test]
async fn close_releases_held_messages_to_another_store_at_once() {
  let Some(url) =
    pg::url("close_releases_held_messages_to_another_store_at_once")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let a = pg::open(&url, 30_000);
  let b = pg::open(&url, 30_000);
  let message = enqueue(v8_string("held"), 0, vec![], None);
  commit(&a, enqueues(vec![message])).await;
  let held = dequeue_within(&a, 1, Duration::from_secs(3)).await;
  assert_eq!(held.len(), 1);
  let waiting = b.clone();
  let got = tokio::spawn(async move {
    dequeue_within(&waiting, 1, Duration::from_secs(3)).await
  });
  tokio::time::sleep(Duration::from_millis(100)).await;
  let t = Instant::now();
  a.close();
  let got = got.await.expect("join");
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["held"]);
  assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
  b.close();
}

#[tokio::test]
async fn a_running_message_is_renewed_not_taken_back() {
  let Some(url) = pg::url("a_running_message_is_renewed_not_taken_back") else {
    return;
  };
  let url = pg::fresh(&url);
  let a = pg::open(&url, 150);
  let b = pg::open(&url, 150);
  let message = enqueue(v8_string("long"), 0, vec![], None);
  commit(&a, enqueues(vec![message])).await;
  let held = dequeue_within(&a, 1, Duration::from_secs(3)).await;
  assert_eq!(held.len(), 1);
  // Five leases long: b must never get it while a renews.
  let stolen = dequeue_within(&b, 1, Duration::from_millis(750)).await;
  assert!(stolen.is_empty(), "taken back while renewed");
  let done = held.iter().map(|m| (m.token, Outcome::Handled)).collect();
  a.finish(done).await.expect("finish");
  assert_eq!(count(&url), 0);
  a.close();
  b.close();
}
