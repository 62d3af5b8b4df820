//! Faults on Postgres for named queues (kvq_tests::named's queues, kept
//! in the engine's tables): the server restarted mid-drain, kvq's
//! sessions killed with pg_terminate_backend mid-drain, enqueues issued
//! through a restart, verdicts sent while the server is down, and an
//! acknowledgement that failed beside a failed plain write. Every
//! call completes or fails with a clear error, nothing acknowledged is
//! lost, each ordering group stays in order with never two of its
//! messages running at once, and nothing is left leased or running.
//!
//! These tests take the shared server down, so they run one at a time
//! (pg::serial).

#[path = "postgres_common/mod.rs"]
mod pg;

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use kvq_core::engine::NamedAdmin;
use kvq_core::engine::NamedAnswer;
use kvq_core::engine::NamedWrite;
use kvq_core::engine::Verdict;
use kvq_core::KvValue;
use kvq_core::Outcome;
use kvq_core::QueueMessage;
use kvq_core::Store;
use kvq_tests::key;
use kvq_tests::named::counts;
use kvq_tests::named::message;
use kvq_tests::named::send;
use kvq_tests::named::text;
use kvq_tests::named::totals;
use kvq_tests::now_ms;
use kvq_tests::set;
use kvq_tests::write;

/// Up to `max` messages of `queue` for `listener`, or none within `wait`,
/// or the error the claim met. A wait that ends is cancelled and its
/// answer still awaited, so that a claim made just then is not dropped.
async fn try_take(
  store: &Store,
  listener: u64,
  queue: &str,
  max: usize,
  wait: Duration,
) -> kvq_core::Result<Vec<QueueMessage>> {
  let got = store.dequeue_named(listener, queue, max);
  tokio::pin!(got);
  match tokio::time::timeout(wait, &mut got).await {
    Ok(answer) => answer,
    Err(_) => {
      store.cancel_dequeue(listener);
      got.await
    }
  }
}

/// A grouped message's group and its index in the group (texts are
/// `g<group>-<index>`).
fn place(m: &QueueMessage) -> (String, usize) {
  let t = text(m);
  let (group, index) = t.split_once('-').expect("g<group>-<index>");
  let named = m.named.as_ref().expect("metadata");
  let (g, _) = named.group.as_ref().expect("a group");
  assert_eq!(g, group, "the text names the message's group");
  (group.to_string(), index.parse().expect("an index"))
}

/// `groups` groups of `per` messages each on `queue`, enqueued group by
/// group interleaved (g0-0000, g1-0000, …), in writes of 200.
async fn fill_groups(store: &Store, queue: &str, groups: usize, per: usize) {
  let all: Vec<_> = (0..per)
    .flat_map(|i| (0..groups).map(move |g| (g, i)))
    .map(|(g, i)| {
      message(queue, &format!("g{g}-{i:04}"), Some(&format!("g{g}")))
    })
    .collect();
  for chunk in all.chunks(200) {
    send(store, chunk.to_vec()).await;
  }
}

/// What the consumers of a drain saw.
#[derive(Default)]
struct Drain {
  /// Groups a handler is running a message of now.
  running: HashSet<String>,
  /// Per group, the indices in delivery order (again included).
  delivered: HashMap<String, Vec<usize>>,
  /// Two messages of one group ran at once (what, where).
  overlaps: Vec<String>,
  /// Texts whose handler ran at least once.
  handled: HashSet<String>,
  deliveries: usize,
  /// Claims and acknowledgements that failed (each clearly).
  errors: usize,
}

/// Consumes `queue` on `store` as `listener` until `stop`, each message's
/// handler taking a few ms; failed claims and acknowledgements must be
/// clear errors (the engine records an outcome that failed on a later
/// turn).
async fn consume(
  store: Store,
  listener: u64,
  queue: &'static str,
  seen: Arc<Mutex<Drain>>,
  stop: Arc<AtomicBool>,
) {
  while !stop.load(Ordering::SeqCst) {
    let wait = Duration::from_millis(300);
    let batch = match try_take(&store, listener, queue, 8, wait).await {
      Ok(batch) => batch,
      Err(e) => {
        pg::assert_clear(&e);
        seen.lock().expect("lock").errors += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        continue;
      }
    };
    {
      let mut seen = seen.lock().expect("lock");
      for m in &batch {
        let (group, index) = place(m);
        if !seen.running.insert(group.clone()) {
          let what =
            format!("{} while {group} ran (store {listener})", text(m));
          seen.overlaps.push(what);
        }
        seen.delivered.entry(group).or_default().push(index);
      }
    }
    // The handlers run: long enough for another store's claim to meet
    // them if the group's lock let it.
    tokio::time::sleep(Duration::from_millis(3)).await;
    {
      let mut seen = seen.lock().expect("lock");
      for m in &batch {
        seen.running.remove(&place(m).0);
        seen.handled.insert(text(m));
        seen.deliveries += 1;
      }
    }
    let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
    if let Err(e) = store.finish(done).await {
      pg::assert_clear(&e);
      seen.lock().expect("lock").errors += 1;
    }
  }
}

/// Waits up to `within` for `queue`'s counts to be `want`; the last
/// counts seen.
async fn counts_become(
  store: &Store,
  queue: &str,
  want: [u64; 5],
  within: Duration,
) -> [u64; 5] {
  let started = Instant::now();
  loop {
    let now = match store.named_admin(NamedAdmin::Counts(queue.into())).await {
      Ok(NamedAnswer::Counts(c)) => c,
      Ok(other) => panic!("counts: {other:?}"),
      Err(e) => {
        pg::assert_clear(&e);
        [u64::MAX; 5]
      }
    };
    if now == want || started.elapsed() > within {
      return now;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
  }
}

/// Drains `GROUPS` groups of `PER` messages with two stores (two
/// processes' engines) at once; `fault` runs once a third is handled,
/// on a thread of its own. Then every message was handled, each group
/// in order with no overlap, every message acknowledged exactly once,
/// and nothing is left ready, leased or running.
async fn drain_through(url: &str, fault: fn()) {
  const GROUPS: usize = 8;
  const PER: usize = 150;
  const QUEUE: &str = "orders";
  let n = GROUPS * PER;
  let producer = pg::open(url, 2_000);
  fill_groups(&producer, QUEUE, GROUPS, PER).await;
  assert_eq!(
    counts(&producer, QUEUE).await,
    [GROUPS as u64, 0, (n - GROUPS) as u64, 0, 0]
  );
  producer.close();
  // A short lease: a claim whose answer a fault lost is taken back soon.
  let a = pg::open(url, 2_000);
  let b = pg::open(url, 2_000);
  let seen = Arc::new(Mutex::new(Drain::default()));
  let stop = Arc::new(AtomicBool::new(false));
  let consumers = [
    tokio::spawn(consume(a.clone(), 1, QUEUE, seen.clone(), stop.clone())),
    tokio::spawn(consume(b.clone(), 2, QUEUE, seen.clone(), stop.clone())),
  ];
  let started = Instant::now();
  let mut faulted = None;
  loop {
    let handled = seen.lock().expect("lock").handled.len();
    if handled == n {
      break;
    }
    assert!(
      started.elapsed() < Duration::from_secs(90),
      "stuck at {handled} of {n}"
    );
    if faulted.is_none() && handled > n / 3 {
      eprintln!("fault at {handled} of {n}, after {:?}", started.elapsed());
      faulted = Some(std::thread::spawn(fault));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
  let faulted = faulted.expect("the fault ran");
  assert!(faulted.is_finished(), "the fault came after the drain");
  faulted.join().expect("fault");
  // The consumers go on until every outcome is recorded: a message whose
  // lease lapsed while its outcome could not be sent comes back to them.
  let left = counts_become(&a, QUEUE, [0; 5], Duration::from_secs(20)).await;
  stop.store(true, Ordering::SeqCst);
  for c in consumers {
    c.await.expect("consumer");
  }
  let [enqueued, acked, _, dead] = totals(&a, QUEUE).await;
  a.close();
  b.close();
  let seen = seen.lock().expect("lock");
  eprintln!(
    "{n} messages, {} deliveries ({} again), {} clear errors, in {:?}",
    seen.deliveries,
    seen.deliveries - n,
    seen.errors,
    started.elapsed()
  );
  assert_eq!(left, [0; 5], "left ready, waiting, leased or dead");
  assert!(seen.overlaps.is_empty(), "overlaps: {:?}", seen.overlaps);
  assert_eq!(seen.handled.len(), n, "every message handled");
  for g in 0..GROUPS {
    let order = &seen.delivered[&format!("g{g}")];
    // Again is allowed (at least once), going back is not.
    let back: Vec<_> = order.windows(2).filter(|w| w[1] < w[0]).collect();
    assert!(back.is_empty(), "g{g} out of order at {back:?}: {order:?}");
    let unique: HashSet<&usize> = order.iter().collect();
    assert_eq!(unique.len(), PER, "g{g}: every index");
  }
  let n = n as i64;
  assert_eq!((enqueued, acked, dead), (n, n, 0), "each acknowledged once");
}

#[test]
fn a_grouped_queue_drained_through_a_restart_keeps_order_and_loses_nothing() {
  let Some((_serial, url)) = pg::alone(
    "a_grouped_queue_drained_through_a_restart_keeps_order_and_loses_nothing",
  ) else {
    return;
  };
  kvq_tests::block_on(drain_through(&url, || pg::ctl("restart")));
}

#[test]
fn a_grouped_queue_drained_through_killed_sessions_keeps_order_and_loses_nothing(
) {
  let Some((_serial, url)) = pg::alone("a_grouped_queue_drained_through_killed_sessions_keeps_order_and_loses_nothing") else {
    return;
  };
  kvq_tests::block_on(drain_through(&url, || {
    // Twice: the sessions that replaced the first ones die too.
    let killed = pg::terminate_kvq_sessions();
    assert!(killed >= 2, "kvq held {killed} sessions");
    std::thread::sleep(Duration::from_millis(150));
    let again = pg::terminate_kvq_sessions();
    eprintln!("killed {killed} sessions, then {again}");
  }));
}

#[test]
fn named_enqueues_through_a_restart_complete_or_fail_clearly_and_none_is_lost()
{
  let Some((_serial, url)) = pg::alone("named_enqueues_through_a_restart_complete_or_fail_clearly_and_none_is_lost") else {
    return;
  };
  const QUEUE: &str = "jobs";
  const GROUPS: usize = 4;
  kvq_tests::block_on(async {
    let store = pg::open(&url, 30_000);
    let text_of = |i: usize| format!("g{}-{i:04}", i % GROUPS);
    let (acknowledged, _) = pg::through_a_restart("enqueue", |i| {
      let group = format!("g{}", i % GROUPS);
      store.write_named(NamedWrite {
        atomic: None,
        enqueues: vec![message(QUEUE, &text_of(i), Some(&group))],
      })
    })
    .await;
    let acknowledged: Vec<String> =
      acknowledged.into_iter().map(text_of).collect();
    store.close();
    // A fresh store drains the queue: every acknowledged message comes,
    // each once, its group in order.
    let again = pg::open(&url, 30_000);
    let mut delivered: Vec<QueueMessage> = Vec::new();
    let wanted: HashSet<&String> = acknowledged.iter().collect();
    let started = Instant::now();
    loop {
      let wait = Duration::from_millis(500);
      let batch = try_take(&again, 1, QUEUE, 64, wait).await.expect("take");
      if batch.is_empty() {
        let got: HashSet<String> = delivered.iter().map(text).collect();
        if wanted.iter().all(|t| got.contains(*t)) {
          break;
        }
        assert!(
          started.elapsed() < Duration::from_secs(20),
          "lost: {:?}",
          wanted
            .iter()
            .filter(|t| !got.contains(**t))
            .collect::<Vec<_>>()
        );
      }
      let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
      again.finish(done).await.expect("finish");
      delivered.extend(batch);
    }
    let texts: Vec<String> = delivered.iter().map(text).collect();
    let unique: HashSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "a message stored twice");
    let extra = texts.iter().filter(|t| !wanted.contains(t)).count();
    eprintln!("{extra} of the failed enqueues had been stored after all");
    let mut order: HashMap<String, Vec<usize>> = HashMap::new();
    for m in &delivered {
      let (group, index) = place(m);
      order.entry(group).or_default().push(index);
    }
    for (group, indices) in &order {
      let mut sorted = indices.clone();
      sorted.sort();
      assert_eq!(indices, &sorted, "{group} in enqueue order");
    }
    assert_eq!(counts(&again, QUEUE).await, [0; 5]);
    again.close();
  });
}

#[test]
fn named_verdicts_sent_while_the_server_is_down_are_recorded_when_it_is_back() {
  let Some((_serial, url)) = pg::alone(
    "named_verdicts_sent_while_the_server_is_down_are_recorded_when_it_is_back",
  ) else {
    return;
  };
  const QUEUE: &str = "v";
  kvq_tests::block_on(async {
    let lease = 2_000;
    let holder = pg::open(&url, lease);
    let other = pg::open(&url, lease);
    let mut batch: Vec<_> = (0..5)
      .map(|i| message(QUEUE, &format!("h{i}"), None))
      .collect();
    batch.push(message(QUEUE, "retry", None));
    batch.push(message(QUEUE, "g1", Some("g")));
    batch.push(message(QUEUE, "g2", Some("g")));
    send(&holder, batch).await;
    // Everything ready: h0..h4, retry and g1 (g2 waits behind g1).
    let mut claimed = Vec::new();
    let started = Instant::now();
    while claimed.len() < 7 {
      assert!(
        started.elapsed() < Duration::from_secs(10),
        "claimed {claimed:?}"
      );
      let wait = Duration::from_secs(1);
      let got = try_take(&holder, 1, QUEUE, 7 - claimed.len(), wait).await;
      claimed.extend(got.expect("take"));
    }
    // Another process listens all along, and sweeps lapsed leases: what
    // it gets must be g2 only, once g1 is dead.
    let got_again = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let listener = {
      let (other, got_again, stop) =
        (other.clone(), got_again.clone(), stop.clone());
      tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
          let wait = Duration::from_millis(300);
          match try_take(&other, 2, QUEUE, 10, wait).await {
            Ok(got) => {
              let done = got.iter().map(|m| (m.token, Outcome::Handled));
              let done = done.collect();
              got_again.lock().expect("lock").extend(got);
              let _ = other.finish(done).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
          }
        }
      })
    };
    pg::ctl("stop");
    // The handlers are done, but the server is gone: not recorded now.
    let retry_at = now_ms() + 60_000;
    let verdicts = claimed
      .iter()
      .map(|m| {
        let outcome = match text(m).as_str() {
          "retry" => Outcome::Settled(Verdict::Retry {
            at: retry_at,
            error: "Error: failed while the server was down".into(),
          }),
          "g1" => Outcome::Settled(Verdict::Dead {
            error: "Error: dead while the server was down".into(),
          }),
          _ => Outcome::Handled,
        };
        (m.token, outcome)
      })
      .collect();
    let finished = holder.finish(verdicts).await;
    match &finished {
      Err(e) => pg::assert_clear(e),
      Ok(()) => panic!("recorded with the server stopped"),
    }
    // Every lease lapses while the server is down.
    tokio::time::sleep(Duration::from_millis(lease + 1_000)).await;
    pg::ctl("start");
    // retry: delayed to its verdict's time (a lapse would make it ready
    // at once); g1 dead; g2 delivered to the other store and acked.
    let want = [0, 1, 0, 0, 1];
    let left =
      counts_become(&holder, QUEUE, want, Duration::from_secs(15)).await;
    // Past the other store's grace and a retry's delay, in case it took
    // a message back after all.
    tokio::time::sleep(Duration::from_millis(lease + 1_500)).await;
    stop.store(true, Ordering::SeqCst);
    listener.await.expect("listener");
    let again: Vec<String> =
      got_again.lock().expect("lock").iter().map(text).collect();
    assert_eq!(left, want, "counts once the server is back");
    assert_eq!(again, ["g2"], "delivered again after the restart");
    assert_eq!(counts(&holder, QUEUE).await, want, "and they stay");
    let Ok(NamedAnswer::Messages(peeked)) =
      holder.named_admin(NamedAdmin::Peek(QUEUE.into(), 10)).await
    else {
      panic!("peek");
    };
    assert_eq!(peeked.len(), 1);
    assert_eq!(peeked[0].state, "delayed");
    assert_eq!(peeked[0].due, retry_at, "due when the verdict said");
    assert_eq!(peeked[0].attempts, 1);
    assert_eq!(
      peeked[0].last_error.as_deref(),
      Some("Error: failed while the server was down")
    );
    let Ok(NamedAnswer::Messages(letters)) = holder
      .named_admin(NamedAdmin::DeadLetters(QUEUE.into(), 10))
      .await
    else {
      panic!("dead letters");
    };
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].group, Some(("g".into(), 1)));
    assert_eq!(letters[0].attempts, 1);
    assert_eq!(
      letters[0].last_error.as_deref(),
      Some("Error: dead while the server was down")
    );
    // enqueued 8; acked h0..h4 and g2; retried 1; dead 1.
    assert_eq!(totals(&holder, QUEUE).await, [8, 6, 1, 1]);
    other.close();
    holder.close();
  });
}

/// The bug the full-disk test found (tests-js/faults/full_disk.sh,
/// fsize mode): an acknowledgement that failed (the server down) waits in
/// the engine to be sent again; a plain write made meanwhile gets a turn
/// of its own on Postgres (writes commit alone), and when that turn
/// failed too, it dropped the waiting acknowledgement. The message then
/// stayed running though handled, long past its lease (the sweep after an
/// outage waits as long as the outage lasted), and came back as a failed
/// attempt. The acknowledgement must be recorded once the server is back:
/// the queue ends empty, the message acknowledged once, never retried.
#[test]
fn a_named_ack_that_failed_beside_a_failed_write_is_recorded_when_the_server_is_back(
) {
  let Some((_serial, url)) = pg::alone("a_named_ack_that_failed_beside_a_failed_write_is_recorded_when_the_server_is_back") else {
    return;
  };
  const QUEUE: &str = "acks";
  kvq_tests::block_on(async {
    // The store's lease is the default one; the queue's claims last 2 s,
    // as in the full-disk test.
    let store = pg::open(&url, 30_000);
    send(&store, vec![message(QUEUE, "m", Some("g"))]).await;
    let (reply, answer) = tokio::sync::oneshot::channel();
    let reply = kvq_core::engine::Reply::channel(reply);
    store.dequeue_named_then(1, QUEUE, 1, Some(2_000), reply);
    let claimed = tokio::time::timeout(Duration::from_secs(5), answer)
      .await
      .expect("claimed within 5 s")
      .expect("an answer")
      .expect("dequeue");
    assert_eq!(claimed.iter().map(text).collect::<Vec<_>>(), ["m"]);
    pg::ctl("stop");
    // The handler is done, but the server is gone: not recorded now.
    let done = vec![(claimed[0].token, Outcome::Handled)];
    match store.finish(done).await {
      Err(e) => pg::assert_clear(&e),
      Ok(()) => panic!("recorded with the server stopped"),
    }
    // A plain write while the acknowledgement waits: it fails too.
    let w = write(vec![set(key(&["k"]), KvValue::U64(1))]);
    match store.atomic_write(w).await {
      Err(e) => pg::assert_clear(&e),
      Ok(v) => panic!("written with the server stopped: {v:?}"),
    }
    pg::ctl("start");
    // Within a few retries, long before any sweep could take the lease
    // back (it waits as long as the outage lasted).
    let left =
      counts_become(&store, QUEUE, [0; 5], Duration::from_secs(10)).await;
    assert_eq!(left, [0; 5], "the handled message left running or ready");
    // enqueued 1, acked 1, never retried, never dead.
    assert_eq!(totals(&store, QUEUE).await, [1, 1, 0, 0]);
    store.close();
  });
}
