//! Named queues' semantics, written once and run on every backend that
//! keeps them in the engine (tests/named_queue.rs on a SQLite file,
//! tests/postgres_named.rs on Postgres): each scenario takes a fresh,
//! open store and panics on the first difference.

use std::sync::Arc;
use std::time::Duration;

use kvq_core::engine::Enqueued;
use kvq_core::engine::NamedAdmin;
use kvq_core::engine::NamedAnswer;
use kvq_core::engine::NamedEnqueue;
use kvq_core::engine::NamedWrite;
use kvq_core::engine::Verdict;
use kvq_core::Check;
use kvq_core::Outcome;
use kvq_core::QueueMessage;
use kvq_core::Store;

use crate::key;
use crate::now_ms;
use crate::parse_v8_string;
use crate::v8_string;
use crate::write;

static NEXT: std::sync::atomic::AtomicU64 =
  std::sync::atomic::AtomicU64::new(1);

/// A fresh message id: 12 hex digits of time, then a counter.
pub fn new_id() -> String {
  let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
  format!("{:012x}{:020x}", now_ms(), n)
}

/// A message of `queue` with text `text`, due now.
pub fn message(queue: &str, text: &str, group: Option<&str>) -> NamedEnqueue {
  NamedEnqueue {
    queue: Arc::from(queue),
    id: new_id(),
    payload: v8_string(text),
    due: now_ms(),
    group: group.map(str::to_string),
    dedup: None,
    max_attempts: 5,
    enqueued_at: now_ms(),
    unique: false,
  }
}

/// Stores messages; their fates.
pub async fn send(store: &Store, enqueues: Vec<NamedEnqueue>) -> Vec<Enqueued> {
  let write = NamedWrite {
    atomic: None,
    enqueues,
  };
  let committed = store.write_named(write).await.expect("write_named");
  committed.expect("no check to fail").enqueued
}

/// Up to `max` messages of `queue`, or none within `wait`.
pub async fn take(
  store: &Store,
  queue: &str,
  max: usize,
  wait: Duration,
) -> Vec<QueueMessage> {
  let got = tokio::time::timeout(wait, store.dequeue_named(7, queue, max));
  match got.await {
    Ok(r) => r.expect("dequeue_named"),
    Err(_) => {
      store.cancel_dequeue(7);
      Vec::new()
    }
  }
}

/// A message's text.
pub fn text(m: &QueueMessage) -> String {
  parse_v8_string(&m.payload).unwrap_or_default()
}

async fn ack(store: &Store, messages: &[QueueMessage]) {
  let results = messages
    .iter()
    .map(|m| (m.token, Outcome::Handled))
    .collect();
  store.finish(results).await.expect("finish");
}

/// `queue`'s messages by state: ready, delayed, waiting, running, dead.
pub async fn counts(store: &Store, queue: &str) -> [u64; 5] {
  match store.named_admin(NamedAdmin::Counts(queue.into())).await {
    Ok(NamedAnswer::Counts(c)) => c,
    other => panic!("counts: {other:?}"),
  }
}

/// `queue`'s counters (enqueued, acked, retried, dead).
pub async fn totals(store: &Store, queue: &str) -> [i64; 4] {
  match store.named_admin(NamedAdmin::Totals(queue.into())).await {
    Ok(NamedAnswer::Totals(t, _)) => t,
    other => panic!("totals: {other:?}"),
  }
}

const SOON: Duration = Duration::from_secs(5);
const NOT: Duration = Duration::from_millis(300);

/// Queues never see each other's messages; a claim takes many, in
/// enqueue order, with their metadata; acknowledged ones are gone.
pub async fn queues_are_separate_and_ordered(store: &Store) {
  let a: Vec<_> = (0..50)
    .map(|i| message("a", &format!("a{i:02}"), None))
    .collect();
  let ids: Vec<String> = a.iter().map(|m| m.id.clone()).collect();
  send(store, a).await;
  send(store, vec![message("b", "b0", None)]).await;
  let got = take(store, "a", 100, SOON).await;
  assert_eq!(got.len(), 50, "one claim took every due message of a");
  let texts: Vec<String> = got.iter().map(text).collect();
  let expected: Vec<String> = (0..50).map(|i| format!("a{i:02}")).collect();
  assert_eq!(texts, expected, "in enqueue order, none of b");
  let meta = got[0].named.as_ref().expect("metadata");
  assert_eq!(meta.id, ids[0]);
  assert_eq!(meta.attempts, 0);
  assert!(meta.group.is_none());
  assert_eq!(counts(store, "a").await, [0, 0, 0, 50, 0]);
  ack(store, &got).await;
  assert_eq!(counts(store, "a").await, [0; 5]);
  let b = take(store, "b", 10, SOON).await;
  assert_eq!(b.iter().map(text).collect::<Vec<_>>(), ["b0"]);
  ack(store, &b).await;
}

/// Only a group's head is delivered; acknowledging it makes the next one
/// ready, in enqueue order; groups run side by side.
pub async fn groups_deliver_one_at_a_time_in_order(store: &Store) {
  let mut batch = Vec::new();
  for i in 0..4 {
    for g in ["x", "y", "z"] {
      batch.push(message("g", &format!("{g}{i}"), Some(g)));
    }
  }
  send(store, batch).await;
  assert_eq!(counts(store, "g").await, [3, 0, 9, 0, 0]);
  for i in 0..4 {
    let got = take(store, "g", 100, SOON).await;
    let mut texts: Vec<String> = got.iter().map(text).collect();
    texts.sort();
    assert_eq!(texts, [format!("x{i}"), format!("y{i}"), format!("z{i}")]);
    for m in &got {
      let (_, seq) = m
        .named
        .as_ref()
        .and_then(|n| n.group.clone())
        .expect("group");
      assert_eq!(seq, i + 1, "sequence numbers count from 1");
    }
    assert!(take(store, "g", 100, NOT).await.is_empty(), "heads only");
    ack(store, &got).await;
  }
  assert_eq!(counts(store, "g").await, [0; 5]);
}

/// A failing head holds back its own group only: it comes back with its
/// attempt counted and its error; dead, it lets the group go on.
pub async fn a_failing_head_blocks_only_its_group(store: &Store) {
  let batch = vec![
    message("f", "p1", Some("p")),
    message("f", "p2", Some("p")),
    message("f", "q1", Some("q")),
    message("f", "q2", Some("q")),
  ];
  send(store, batch).await;
  let first = take(store, "f", 10, SOON).await;
  let p1 = first.iter().find(|m| text(m) == "p1").expect("p1");
  let q1 = first.iter().find(|m| text(m) == "q1").expect("q1");
  let retry = Verdict::Retry {
    at: now_ms() + 200,
    error: "Error: boom".into(),
  };
  let results = vec![
    (p1.token, Outcome::Settled(retry)),
    (q1.token, Outcome::Handled),
  ];
  store.finish(results).await.expect("finish");
  let next = take(store, "f", 10, SOON).await;
  assert_eq!(
    next.iter().map(text).collect::<Vec<_>>(),
    ["q2"],
    "q goes on"
  );
  ack(store, &next).await;
  let again = take(store, "f", 10, SOON).await;
  assert_eq!(again.iter().map(text).collect::<Vec<_>>(), ["p1"]);
  assert_eq!(again[0].named.as_ref().map(|n| n.attempts), Some(1));
  let dead = Verdict::Dead {
    error: "Error: boom again".into(),
  };
  store
    .finish(vec![(again[0].token, Outcome::Settled(dead))])
    .await
    .expect("finish");
  let after = take(store, "f", 10, SOON).await;
  assert_eq!(
    after.iter().map(text).collect::<Vec<_>>(),
    ["p2"],
    "p goes on"
  );
  ack(store, &after).await;
  let letters = store
    .named_admin(NamedAdmin::DeadLetters("f".into(), 10))
    .await
    .expect("dead letters");
  let NamedAnswer::Messages(letters) = letters else {
    panic!("dead letters: {letters:?}");
  };
  assert_eq!(letters.len(), 1);
  assert_eq!(letters[0].attempts, 2);
  assert_eq!(letters[0].last_error.as_deref(), Some("Error: boom again"));
  assert_eq!(letters[0].group, Some(("p".into(), 1)));
  // Redriven, it goes to the end of its (now empty) group, attempts reset.
  let n = store
    .named_admin(NamedAdmin::Redrive("f".into(), None))
    .await
    .expect("redrive");
  assert_eq!(n, NamedAnswer::Changed(1));
  let back = take(store, "f", 10, SOON).await;
  assert_eq!(back.iter().map(text).collect::<Vec<_>>(), ["p1"]);
  assert_eq!(back[0].named.as_ref().map(|n| n.attempts), Some(0));
  ack(store, &back).await;
  assert_eq!(counts(store, "f").await, [0; 5]);
  match store.named_admin(NamedAdmin::Totals("f".into())).await {
    Ok(NamedAnswer::Totals(t, None)) => assert_eq!(t, [5, 4, 1, 1]),
    other => panic!("totals: {other:?}"),
  }
}

/// A dedup id within its window adds nothing and names the first id.
pub async fn a_duplicate_adds_nothing(store: &Store) {
  let mut first = message("d", "one", None);
  first.dedup = Some(("order-1".into(), now_ms() + 60_000));
  let mut second = message("d", "two", None);
  second.dedup = first.dedup.clone();
  let first_id = first.id.clone();
  let w = NamedWrite {
    atomic: None,
    enqueues: vec![first],
  };
  let stored = store
    .write_named(w)
    .await
    .expect("write")
    .expect("committed");
  assert_eq!(stored.enqueued, [Enqueued::Added]);
  assert_eq!(
    send(store, vec![second]).await,
    [Enqueued::Duplicate(first_id, stored.versionstamp)],
    "the first message's id and versionstamp"
  );
  let mut late = message("d", "three", None);
  late.dedup = Some(("order-2".into(), now_ms() - 1));
  let mut later = message("d", "four", None);
  later.dedup = Some(("order-2".into(), now_ms() + 60_000));
  send(store, vec![late]).await;
  assert_eq!(
    send(store, vec![later]).await,
    [Enqueued::Added],
    "a window that ended lets the id in again"
  );
  assert_eq!(counts(store, "d").await[0], 3);
}

/// Inside an atomic write: a failed check stores no message; a passing
/// one stores the write and the messages together.
pub async fn enqueues_ride_in_atomic_writes(store: &Store) {
  let k = key(&["outbox"]);
  let mut failing = write(vec![crate::set(
    k.clone(),
    kvq_core::KvValue::V8(v8_string("x")),
  )]);
  failing.checks.push(Check {
    key: k.clone(),
    versionstamp: Some([1; 10]),
  });
  let w = NamedWrite {
    atomic: Some(failing),
    enqueues: vec![message("o", "never", None)],
  };
  assert!(store.write_named(w).await.expect("write").is_none());
  assert_eq!(counts(store, "o").await, [0; 5]);
  let w = NamedWrite {
    atomic: Some(write(vec![crate::set(
      k.clone(),
      kvq_core::KvValue::V8(v8_string("y")),
    )])),
    enqueues: vec![message("o", "sent", None)],
  };
  let committed = store
    .write_named(w)
    .await
    .expect("write")
    .expect("committed");
  let entry = crate::get(store, &k).await.expect("the write landed");
  assert_eq!(entry.versionstamp, committed.versionstamp);
  let got = take(store, "o", 10, SOON).await;
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["sent"]);
  ack(store, &got).await;
}

/// Peek shows ready, delayed and waiting messages in delivery order;
/// cancel deletes one (a head moves its group on); purge empties the
/// queue; the queue list names it.
pub async fn management_sees_and_repairs(store: &Store) {
  let mut later = message("m", "later", None);
  later.due = now_ms() + 60_000;
  let head = message("m", "head", Some("g"));
  let head_id = head.id.clone();
  send(
    store,
    vec![
      message("m", "now", None),
      later,
      head,
      message("m", "behind", Some("g")),
    ],
  )
  .await;
  let NamedAnswer::Messages(peeked) = store
    .named_admin(NamedAdmin::Peek("m".into(), 10))
    .await
    .expect("peek")
  else {
    panic!("peek");
  };
  let states: Vec<&str> = peeked.iter().map(|m| m.state).collect();
  assert_eq!(states, ["ready", "ready", "delayed", "waiting"]);
  let cancel = NamedAdmin::Cancel("m".into(), head_id);
  assert_eq!(
    store.named_admin(cancel.clone()).await.ok(),
    Some(NamedAnswer::Changed(1))
  );
  assert_eq!(
    store.named_admin(cancel).await.ok(),
    Some(NamedAnswer::Changed(0))
  );
  assert_eq!(
    counts(store, "m").await,
    [2, 1, 0, 0, 0],
    "behind is the head now"
  );
  let purge = NamedAdmin::Purge("m".into(), true);
  assert_eq!(
    store.named_admin(purge).await.ok(),
    Some(NamedAnswer::Changed(3))
  );
  assert_eq!(counts(store, "m").await, [0; 5]);
  match store.named_admin(NamedAdmin::Queues).await {
    Ok(NamedAnswer::Queues(q)) => {
      assert!(q.contains(&"m".to_string()), "{q:?}")
    }
    other => panic!("queues: {other:?}"),
  }
}

/// The texts of `queue`'s next claim (up to 10), after which nothing
/// more is due.
async fn next_texts(
  store: &Store,
  queue: &str,
) -> (Vec<String>, Vec<QueueMessage>) {
  let got = take(store, queue, 10, SOON).await;
  assert!(
    take(store, queue, 10, NOT).await.is_empty(),
    "one at a time"
  );
  (got.iter().map(text).collect(), got)
}

/// A message cancelled while it waits in its group is skipped when its
/// turn comes, also as the group's last, which a later enqueue then
/// follows; a purge while a head runs leaves that head in charge of its
/// group: what is enqueued next waits for it.
pub async fn cancel_and_purge_keep_groups_in_order(store: &Store) {
  let batch: Vec<_> = (1..=4)
    .map(|i| message("c", &format!("c{i}"), Some("g")))
    .collect();
  let ids: Vec<String> = batch.iter().map(|m| m.id.clone()).collect();
  send(store, batch).await;
  for id in [&ids[1], &ids[3]] {
    let cancel = NamedAdmin::Cancel("c".into(), id.clone());
    assert_eq!(
      store.named_admin(cancel.clone()).await.ok(),
      Some(NamedAnswer::Changed(1))
    );
    assert_eq!(
      store.named_admin(cancel).await.ok(),
      Some(NamedAnswer::Changed(0)),
      "cancelled once"
    );
  }
  assert_eq!(counts(store, "c").await, [1, 0, 1, 0, 0]);
  let (texts, c1) = next_texts(store, "c").await;
  assert_eq!(texts, ["c1"]);
  ack(store, &c1).await;
  let (texts, c3) = next_texts(store, "c").await;
  assert_eq!(texts, ["c3"], "c2 was cancelled");
  send(store, vec![message("c", "c5", Some("g"))]).await;
  assert_eq!(counts(store, "c").await, [0, 0, 1, 1, 0], "c5 waits for c3");
  ack(store, &c3).await;
  let (texts, c5) = next_texts(store, "c").await;
  assert_eq!(texts, ["c5"], "c4 was cancelled");
  let seq = |m: &QueueMessage| {
    m.named.as_ref().and_then(|n| n.group.clone()).map(|g| g.1)
  };
  assert!(seq(&c5[0]) > seq(&c3[0]), "numbers grow within a group");
  ack(store, &c5).await;
  assert_eq!(counts(store, "c").await, [0; 5]);

  let batch: Vec<_> = (1..=3)
    .map(|i| message("p", &format!("p{i}"), Some("g")))
    .collect();
  send(store, batch).await;
  let (texts, p1) = next_texts(store, "p").await;
  assert_eq!(texts, ["p1"]);
  let purge = NamedAdmin::Purge("p".into(), false);
  assert_eq!(
    store.named_admin(purge).await.ok(),
    Some(NamedAnswer::Changed(2)),
    "p2 and p3, not the running p1"
  );
  send(store, vec![message("p", "p4", Some("g"))]).await;
  assert_eq!(counts(store, "p").await, [0, 0, 1, 1, 0], "p4 waits for p1");
  assert!(take(store, "p", 10, NOT).await.is_empty());
  ack(store, &p1).await;
  let (texts, p4) = next_texts(store, "p").await;
  assert_eq!(texts, ["p4"]);
  ack(store, &p4).await;
  assert_eq!(counts(store, "p").await, [0; 5]);
}

/// Bad input from a binding gets a clear error naming what is wrong, and
/// stores nothing.
pub async fn bad_input_is_refused(store: &Store) {
  let mut empty_group = message("b", "x", None);
  empty_group.group = Some(String::new());
  let mut bad_id = message("b", "y", None);
  bad_id.id = "not-an-id".into();
  let mut long_dedup = message("b", "z", None);
  long_dedup.dedup = Some(("d".repeat(2000), now_ms() + 1000));
  for (m, want) in [
    (empty_group, "group must be a non-empty string"),
    (bad_id, "a named message id"),
    (long_dedup, "dedupId must be a non-empty string"),
  ] {
    let w = NamedWrite {
      atomic: None,
      enqueues: vec![m],
    };
    match store.write_named(w).await {
      Err(e) => assert!(e.to_string().contains(want), "{e}"),
      Ok(_) => panic!("accepted: {want}"),
    }
  }
  assert_eq!(counts(store, "b").await, [0; 5]);
}
