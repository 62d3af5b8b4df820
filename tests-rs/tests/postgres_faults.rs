//! Faults on Postgres: the server restarted mid-stream, kvq's sessions
//! killed with pg_terminate_backend. Every call in flight completes or
//! fails with a clear error, nothing acknowledged is lost, and listeners
//! and watchers carry on by themselves.
//!
//! These tests take the shared server down, so they run one at a time
//! (one lock for the file).

#[path = "postgres_common/mod.rs"]
mod pg;

use std::collections::HashSet;
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
use kvq_tests::set;
use kvq_tests::v8_string;
use kvq_tests::write;

#[test]
fn writes_through_a_restart_complete_or_fail_clearly_and_none_is_lost() {
  let Some((_serial, url)) = pg::alone(
    "writes_through_a_restart_complete_or_fail_clearly_and_none_is_lost",
  ) else {
    return;
  };
  kvq_tests::block_on(async {
    let store = pg::open(&url, 30_000);
    let k = |i: usize| key(&["w", &format!("{i:06}")]);
    let (acknowledged, _) = pg::through_a_restart("write", |i| {
      store.atomic_write(write(vec![set(k(i), KvValue::U64(i as u64))]))
    })
    .await;
    // Every acknowledged write is there, read by a fresh store.
    store.close();
    let again = pg::open(&url, 30_000);
    for &i in &acknowledged {
      assert!(
        get(&again, &k(i)).await.is_some(),
        "an acknowledged write is gone"
      );
    }
    again.close();
  });
}

#[test]
fn a_listener_and_a_watcher_resume_after_their_sessions_are_killed() {
  let Some((_serial, url)) = pg::alone(
    "a_listener_and_a_watcher_resume_after_their_sessions_are_killed",
  ) else {
    return;
  };
  kvq_tests::block_on(async {
    let consumer = pg::open(&url, 30_000);
    let k = key(&["watched"]);
    let mut watcher = kvq_tests::watch_unset(&consumer, k.clone(), false).await;
    let _ = dequeue_within(&consumer, 1, Duration::from_millis(200)).await;
    let killed = pg::terminate_kvq_sessions();
    assert!(killed >= 1, "kvq held no session");
    // Another store, opened after the kill, writes and enqueues.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let producer = pg::open(&url, 30_000);
    let t = Instant::now();
    commit(&producer, write(vec![set(k.clone(), KvValue::U64(1))])).await;
    let message = enqueue(v8_string("after the kill"), 0, vec![], None);
    commit(&producer, enqueues(vec![message])).await;
    let got = dequeue_within(&consumer, 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "the listener resumed");
    let seen = tokio::time::timeout(Duration::from_secs(10), watcher.next())
      .await
      .expect("the watch resumed")
      .expect("watch")
      .expect("open");
    assert!(seen[0].is_some());
    eprintln!("resumed after the kill in {:?}", t.elapsed());
    let done = got.iter().map(|m| (m.token, Outcome::Handled)).collect();
    // The pool's killed connections are replaced; the outcome is
    // recorded, at once or on a later turn.
    let _ = consumer.finish(done).await;
    producer.close();
    consumer.close();
  });
}

#[test]
fn a_queue_drained_through_a_restart_loses_no_message() {
  let Some((_serial, url)) =
    pg::alone("a_queue_drained_through_a_restart_loses_no_message")
  else {
    return;
  };
  kvq_tests::block_on(async {
    let producer = pg::open(&url, 30_000);
    let n = 3000;
    let batch: Vec<_> = (0..n)
      .map(|i| enqueue(v8_string(&format!("m{i}")), 0, vec![], None))
      .collect();
    for chunk in batch.chunks(500) {
      let chunk = chunk
        .iter()
        .map(|e| enqueue(e.payload.clone(), 0, vec![], None))
        .collect();
      commit(&producer, enqueues(chunk)).await;
    }
    producer.close();
    let consumer = pg::open(&url, 2_000);
    let mut seen = HashSet::new();
    let mut deliveries = 0;
    let mut restarter = None;
    let started = Instant::now();
    while seen.len() < n {
      assert!(
        started.elapsed() < Duration::from_secs(60),
        "stuck at {}",
        seen.len()
      );
      if restarter.is_none() && seen.len() > n / 3 {
        restarter = Some(std::thread::spawn(|| pg::ctl("restart")));
      }
      let got = match tokio::time::timeout(
        Duration::from_secs(5),
        consumer.dequeue(10),
      )
      .await
      {
        Ok(Ok(got)) => got,
        Ok(Err(e)) => {
          pg::assert_clear(&e);
          continue;
        }
        Err(_) => continue,
      };
      // A handler that takes a moment, so the restart lands mid-drain.
      tokio::time::sleep(Duration::from_millis(3)).await;
      deliveries += got.len();
      for m in &got {
        seen.insert(parse_v8_string(&m.payload).unwrap_or_default());
      }
      let done = got.iter().map(|m| (m.token, Outcome::Handled)).collect();
      if let Err(e) = consumer.finish(done).await {
        // Not recorded yet: the engine tries again on its next turns.
        pg::assert_clear(&e);
      }
    }
    let restarter = restarter.expect("restarted");
    assert!(restarter.is_finished(), "the restart came after the drain");
    restarter.join().expect("restart");
    eprintln!(
      "{n} messages, {deliveries} deliveries ({} again), in {:?}",
      deliveries - n,
      started.elapsed()
    );
    // Every outcome recorded: nothing left queued or leased.
    let sql = format!("select count(*) from {}.queue", pg::schema_of(&url));
    let mut left = String::new();
    for _ in 0..100 {
      left = pg::admin(&sql);
      if left == "0" {
        break;
      }
      tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, "0", "messages left behind");
    consumer.close();
  });
}

/// How many messages are in the test schema's queue (ready, delayed or
/// leased), waiting up to `within` for it to reach zero.
async fn left_in_queue(url: &str, within: Duration) -> String {
  let sql = format!("select count(*) from {}.queue", pg::schema_of(url));
  let started = Instant::now();
  loop {
    let left = pg::admin(&sql);
    if left == "0" || started.elapsed() > within {
      return left;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
  }
}

/// Enqueues `n` messages on `store` and claims them all.
async fn enqueue_and_claim(store: &kvq_core::Store, n: usize) -> Vec<u64> {
  let batch = (0..n)
    .map(|i| enqueue(v8_string(&format!("m{i}")), 0, vec![], None))
    .collect();
  commit(store, enqueues(batch)).await;
  claim_all(store, n).await
}

/// Claims `n` messages on `store`, waiting for them.
async fn claim_all(store: &kvq_core::Store, n: usize) -> Vec<u64> {
  let mut tokens = Vec::new();
  let started = Instant::now();
  while tokens.len() < n {
    assert!(
      started.elapsed() < Duration::from_secs(10),
      "nothing to claim"
    );
    let got = dequeue_within(store, n - tokens.len(), Duration::from_secs(1));
    tokens.extend(got.await.iter().map(|m| m.token));
  }
  tokens
}

#[test]
fn outcomes_sent_while_the_server_is_down_are_recorded_when_it_is_back() {
  let Some((_serial, url)) = pg::alone(
    "outcomes_sent_while_the_server_is_down_are_recorded_when_it_is_back",
  ) else {
    return;
  };
  kvq_tests::block_on(async {
    let lease = 2_000;
    let holder = pg::open(&url, lease);
    let other = pg::open(&url, lease);
    let n = 20;
    let tokens = enqueue_and_claim(&holder, n).await;
    // Another process listens all along, and sweeps lapsed leases: any
    // message it gets is a second delivery.
    let again = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let listener = {
      let (other, again) = (other.clone(), again.clone());
      tokio::spawn(async move {
        loop {
          match other.dequeue(10).await {
            Ok(got) if got.is_empty() => return,
            Ok(got) => {
              again.fetch_add(got.len(), std::sync::atomic::Ordering::SeqCst);
              let done = got.iter().map(|m| (m.token, Outcome::Handled));
              let _ = other.finish(done.collect()).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
          }
        }
      })
    };
    pg::ctl("stop");
    // The handlers are done, but the server is gone: not recorded now.
    let done = tokens.iter().map(|t| (*t, Outcome::Handled)).collect();
    let finished = holder.finish(done).await;
    assert!(finished.is_err(), "recorded with the server stopped");
    // Every lease lapses while the server is down.
    tokio::time::sleep(Duration::from_millis(lease + 1_000)).await;
    let t = Instant::now();
    pg::ctl("start");
    eprintln!("started in {:?}", t.elapsed());
    let left = left_in_queue(&url, Duration::from_secs(15)).await;
    // Past the other store's grace and a retry's delay, in case it took
    // a message back after all.
    tokio::time::sleep(Duration::from_millis(lease + 1_500)).await;
    let again = again.load(std::sync::atomic::Ordering::SeqCst);
    other.close();
    holder.close();
    listener.await.expect("listener");
    assert_eq!(left, "0", "outcomes not recorded");
    assert_eq!(again, 0, "messages delivered again after the restart");
  });
}

#[test]
fn a_store_closed_while_the_server_is_down_records_its_outcomes_when_it_is_back(
) {
  let Some((_serial, url)) = pg::alone("a_store_closed_while_the_server_is_down_records_its_outcomes_when_it_is_back") else {
    return;
  };
  kvq_tests::block_on(async {
    // Long enough for a stop and a start while the lease holds.
    let lease = 8_000;
    let holder = pg::open(&url, lease);
    let n = 20;
    let tokens = enqueue_and_claim(&holder, n).await;
    pg::ctl("stop");
    let done = tokens.iter().map(|t| (*t, Outcome::Handled)).collect();
    assert!(holder.finish(done).await.is_err(), "recorded while stopped");
    // Closed while the server is down: close waits a bounded time, the
    // engine goes on trying while the leases hold.
    let closing = std::thread::spawn(move || holder.close());
    tokio::time::sleep(Duration::from_millis(300)).await;
    pg::ctl("start");
    let left = left_in_queue(&url, Duration::from_millis(lease)).await;
    closing.join().expect("close");
    assert_eq!(left, "0", "outcomes lost at close");
  });
}
