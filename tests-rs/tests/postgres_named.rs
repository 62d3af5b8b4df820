//! Named queues on Postgres: the scenarios of kvq_tests::named, one test
//! each, on a fresh schema each; then what only a shared server has:
//! stores of several processes claiming one grouped queue at once,
//! wake-ups across stores, and a dead process's lease taken back.

#[path = "postgres_common/mod.rs"]
mod pg;

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use kvq_core::engine::Enqueued;
use kvq_core::engine::NamedAdmin;
use kvq_core::engine::NamedAnswer;
use kvq_core::engine::NamedEnqueue;
use kvq_core::engine::NamedWrite;
use kvq_core::engine::LAPSED;
use kvq_core::KvValue;
use kvq_core::Outcome;
use kvq_core::QueueMessage;
use kvq_core::Store;
use kvq_tests::named;
use kvq_tests::named::message;
use kvq_tests::named::send;
use kvq_tests::named::text;

macro_rules! on_postgres {
  ($($scenario:ident),* $(,)?) => {
    $(
      #[tokio::test]
      async fn $scenario() {
        let Some(url) = pg::url(stringify!($scenario)) else {
          return;
        };
        let url = pg::fresh(&url);
        let store = pg::open(&url, 30_000);
        named::$scenario(&store).await;
        store.close();
      }
    )*
  };
}

on_postgres!(
  queues_are_separate_and_ordered,
  groups_deliver_one_at_a_time_in_order,
  a_failing_head_blocks_only_its_group,
  a_duplicate_adds_nothing,
  enqueues_ride_in_atomic_writes,
  management_sees_and_repairs,
  cancel_and_purge_keep_groups_in_order,
  bad_input_is_refused,
);

async fn counts(store: &Store, queue: &str) -> [u64; 5] {
  match store.named_admin(NamedAdmin::Counts(queue.into())).await {
    Ok(NamedAnswer::Counts(c)) => c,
    other => panic!("counts: {other:?}"),
  }
}

async fn totals(store: &Store, queue: &str) -> [i64; 4] {
  match store.named_admin(NamedAdmin::Totals(queue.into())).await {
    Ok(NamedAnswer::Totals(t, _)) => t,
    other => panic!("totals: {other:?}"),
  }
}

/// Up to `max` messages of `queue` for `listener`, or none within `wait`.
/// A wait that ends is cancelled and its answer still awaited: messages
/// claimed for it just then are not dropped (they would sit leased to
/// nobody until their lease lapsed).
async fn take(
  store: &Store,
  listener: u64,
  queue: &str,
  max: usize,
  wait: Duration,
) -> Vec<QueueMessage> {
  let got = store.dequeue_named(listener, queue, max);
  tokio::pin!(got);
  let answer = match tokio::time::timeout(wait, &mut got).await {
    Ok(answer) => answer,
    Err(_) => {
      store.cancel_dequeue(listener);
      got.await
    }
  };
  answer.expect("dequeue_named")
}

fn group_of(m: &QueueMessage) -> String {
  let named = m.named.as_ref().expect("metadata");
  named.group.as_ref().expect("a group").0.clone()
}

/// What the consumers of [`two_stores_never_run_two_messages_of_a_group`]
/// saw.
#[derive(Default)]
struct Seen {
  /// Groups a handler is running a message of now.
  running: HashSet<String>,
  /// Per group, the texts in delivery order.
  delivered: HashMap<String, Vec<String>>,
  /// Two messages of one group ran at once (what, where).
  overlaps: Vec<String>,
  total: usize,
}

/// Consumes `queue` on `store` until `expected` messages were handled by
/// all consumers together (or 60 s pass), each message held a few ms.
async fn consume(
  store: Store,
  listener: u64,
  queue: &'static str,
  seen: Arc<Mutex<Seen>>,
  expected: usize,
) {
  let started = Instant::now();
  while started.elapsed() < Duration::from_secs(60) {
    if seen.lock().expect("lock").total >= expected {
      return;
    }
    let batch =
      take(&store, listener, queue, 8, Duration::from_millis(200)).await;
    {
      let mut seen = seen.lock().expect("lock");
      for m in &batch {
        let group = group_of(m);
        if !seen.running.insert(group.clone()) {
          let what =
            format!("{} while {group} ran (store {listener})", text(m));
          seen.overlaps.push(what);
        }
        seen.delivered.entry(group).or_default().push(text(m));
      }
    }
    // The handlers run: long enough for another store's claim to meet
    // them if the group's lock let it.
    tokio::time::sleep(Duration::from_millis(3)).await;
    {
      let mut seen = seen.lock().expect("lock");
      for m in &batch {
        seen.running.remove(&group_of(m));
        seen.total += 1;
      }
    }
    let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
    store.finish(done).await.expect("finish");
  }
}

/// Two stores (two processes' worth of connections, each with its own
/// engine) enqueue into the same groups at once and claim the same queue
/// at once: no group ever has two messages running, every message comes
/// once, and each producer's messages of a group come in the order it
/// sent them.
#[tokio::test]
async fn two_stores_never_run_two_messages_of_a_group() {
  let Some(url) = pg::url("two_stores_never_run_two_messages_of_a_group")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let a = pg::open(&url, 30_000);
  let b = pg::open(&url, 30_000);
  const GROUPS: usize = 4;
  const ROUNDS: usize = 40;
  let expected = 2 * GROUPS * ROUNDS;
  let seen = Arc::new(Mutex::new(Seen::default()));
  let consumers = [
    tokio::spawn(consume(a.clone(), 1, "jobs", seen.clone(), expected)),
    tokio::spawn(consume(b.clone(), 2, "jobs", seen.clone(), expected)),
  ];
  let produce = |store: Store, name: &'static str| async move {
    // One message per write: as many transactions as messages, racing
    // the other store's claims and acknowledgements of the same groups.
    for round in 0..ROUNDS {
      for g in 0..GROUPS {
        let text = format!("{name}-{round:03}");
        let m = message("jobs", &text, Some(&format!("g{g}")));
        send(&store, vec![m]).await;
      }
    }
  };
  tokio::join!(produce(a.clone(), "a"), produce(b.clone(), "b"));
  for c in consumers {
    c.await.expect("consumer");
  }
  {
    let seen = seen.lock().expect("lock");
    assert!(seen.overlaps.is_empty(), "overlaps: {:?}", seen.overlaps);
    assert_eq!(seen.total, expected, "every message handled");
    for g in 0..GROUPS {
      let texts = &seen.delivered[&format!("g{g}")];
      let unique: HashSet<&String> = texts.iter().collect();
      assert_eq!(texts.len(), 2 * ROUNDS, "g{g}: {texts:?}");
      assert_eq!(unique.len(), 2 * ROUNDS, "g{g}: each once: {texts:?}");
      for producer in ["a", "b"] {
        let mine: Vec<&String> =
          texts.iter().filter(|t| t.starts_with(producer)).collect();
        let mut sorted = mine.clone();
        sorted.sort();
        assert_eq!(mine, sorted, "g{g}: {producer}'s messages in order");
      }
    }
  }
  assert_eq!(counts(&a, "jobs").await, [0; 5]);
  let n = expected as i64;
  assert_eq!(totals(&b, "jobs").await, [n, n, 0, 0]);
  a.close();
  b.close();
}

/// Another store's enqueue, and its acknowledgement of a group's head,
/// wake a store waiting on the queue through NOTIFY, well before the
/// once-a-second backstop would.
#[tokio::test]
async fn another_stores_enqueue_and_group_advance_wake_a_listener() {
  let Some(url) =
    pg::url("another_stores_enqueue_and_group_advance_wake_a_listener")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let producer = pg::open(&url, 30_000);
  let consumer = pg::open(&url, 30_000);
  // Let the consumer's LISTEN session settle.
  let _ = take(&consumer, 1, "w", 1, Duration::from_millis(300)).await;
  let mut enqueue_ms = Vec::new();
  let mut advance_ms = Vec::new();
  for i in 0..8 {
    // The head goes to the producer's own listener, the next one waits.
    let batch = vec![
      message("w", &format!("head{i}"), Some("g")),
      message("w", &format!("next{i}"), Some("g")),
    ];
    send(&producer, batch).await;
    let head = take(&producer, 2, "w", 1, Duration::from_secs(5)).await;
    assert_eq!(
      head.iter().map(text).collect::<Vec<_>>(),
      [format!("head{i}")]
    );
    let waiting = consumer.clone();
    let got = tokio::spawn(async move {
      let m = take(&waiting, 1, "w", 1, Duration::from_secs(5)).await;
      (Instant::now(), m)
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let acked = Instant::now();
    let done = head.iter().map(|m| (m.token, Outcome::Handled)).collect();
    producer.finish(done).await.expect("finish");
    let (at, next) = got.await.expect("join");
    assert_eq!(
      next.iter().map(text).collect::<Vec<_>>(),
      [format!("next{i}")]
    );
    advance_ms.push(at.duration_since(acked).as_secs_f64() * 1000.0);
    let done = next.iter().map(|m| (m.token, Outcome::Handled)).collect();
    consumer.finish(done).await.expect("finish");

    let waiting = consumer.clone();
    let got = tokio::spawn(async move {
      let m = take(&waiting, 1, "w", 1, Duration::from_secs(5)).await;
      (Instant::now(), m)
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let sent = Instant::now();
    send(&producer, vec![message("w", &format!("plain{i}"), None)]).await;
    let (at, plain) = got.await.expect("join");
    assert_eq!(
      plain.iter().map(text).collect::<Vec<_>>(),
      [format!("plain{i}")]
    );
    enqueue_ms.push(at.duration_since(sent).as_secs_f64() * 1000.0);
    let done = plain.iter().map(|m| (m.token, Outcome::Handled)).collect();
    consumer.finish(done).await.expect("finish");
  }
  let enqueue = kvq_tests::summary_ms(&mut enqueue_ms);
  let advance = kvq_tests::summary_ms(&mut advance_ms);
  eprintln!("enqueue to another store: {enqueue}; group advance: {advance}");
  // The backstop alone would give a median near 500 ms.
  assert!(enqueue_ms[enqueue_ms.len() / 2] < 200.0, "{enqueue}");
  assert!(advance_ms[advance_ms.len() / 2] < 200.0, "{advance}");
  producer.close();
  consumer.close();
}

/// A message leased by a process that died is taken back by another
/// store: retried at once with the lapse as its error, and past its
/// `max_attempts` a dead letter whose group moves on.
#[tokio::test]
async fn a_dead_processs_named_lease_is_retried_then_buried() {
  let Some(url) = pg::url("a_dead_processs_named_lease_is_retried_then_buried")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 200);
  let s = pg::schema_of(&url);
  let payload = |t: &str| -> String {
    kvq_tests::v8_string(t)
      .iter()
      .map(|b| format!("{b:02x}"))
      .collect()
  };
  // Leased long ago by a process that is gone: one with attempts left,
  // one on its last, that one the head of a group with a message behind.
  pg::admin(&format!(
    "insert into {s}.named (queue, id, state, due, grp, seq, attempts, \
       max_attempts, enqueued_at, data) values \
     ('l', 'a1', 2, 1, null, null, 0, 5, 1, '\\x{}'::bytea), \
     ('l', 'b1', 2, 1, 'g', 1, 1, 2, 1, '\\x{}'::bytea), \
     ('l', 'b2', 1, 1, 'g', 2, 0, 5, 1, '\\x{}'::bytea)",
    payload("orphan"),
    payload("last"),
    payload("behind"),
  ));
  let mut got = Vec::new();
  let started = Instant::now();
  while got.len() < 2 && started.elapsed() < Duration::from_secs(5) {
    let batch = take(&store, 1, "l", 10, Duration::from_secs(1)).await;
    let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
    got.extend(batch);
    store.finish(done).await.expect("finish");
  }
  let mut texts: Vec<String> = got.iter().map(text).collect();
  texts.sort();
  assert_eq!(texts, ["behind", "orphan"]);
  let orphan = got.iter().find(|m| text(m) == "orphan").expect("orphan");
  assert_eq!(orphan.named.as_ref().map(|n| n.attempts), Some(1));
  let letters = store
    .named_admin(NamedAdmin::DeadLetters("l".into(), 10))
    .await
    .expect("dead letters");
  let NamedAnswer::Messages(letters) = letters else {
    panic!("dead letters: {letters:?}");
  };
  assert_eq!(letters.len(), 1);
  assert_eq!(letters[0].id, "b1");
  assert_eq!(letters[0].attempts, 2);
  assert_eq!(letters[0].last_error.as_deref(), Some(LAPSED));
  assert_eq!(counts(&store, "l").await, [0, 0, 0, 0, 1]);
  assert_eq!(totals(&store, "l").await, [0, 2, 1, 1]);
  store.close();
}

/// An acknowledgement of a group's head waits for another process's
/// enqueue into the group that is under way, then makes that message the
/// head. The other process is a psql session doing what a store's turn
/// does (the group's locks as postgres/named.rs takes them, the insert
/// behind the head), holding its transaction open for a while: were the
/// head to leave without the lock, it would see no message behind it, and
/// the one inserted would wait behind a head that is gone, forever.
#[tokio::test]
async fn a_head_leaving_waits_for_an_enqueue_into_its_group() {
  let Some(url) = pg::url("a_head_leaving_waits_for_an_enqueue_into_its_group")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let s = pg::schema_of(&url);
  send(&store, vec![message("r", "head", Some("g"))]).await;
  let head = take(&store, 1, "r", 1, Duration::from_secs(5)).await;
  assert_eq!(head.iter().map(text).collect::<Vec<_>>(), ["head"]);
  let data: String = kvq_tests::v8_string("behind")
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
  let now = kvq_tests::now_ms();
  let other_process = format!(
    "begin; \
     select pg_advisory_xact_lock_shared(hashtextextended('kvq named queue {s} ' || 'r', 0)); \
     select pg_advisory_xact_lock(hashtextextended('kvq named group {s} ' || 'r', hashtext('g'))); \
     insert into {s}.named (queue, id, state, due, grp, seq, attempts, \
       max_attempts, enqueued_at, data) \
       select 'r', 'behind', 1, {now}, 'g', max(seq) + 1, 0, 5, {now}, \
         '\\x{data}'::bytea \
       from {s}.named where queue = 'r' and grp = 'g'; \
     select pg_sleep(0.8); \
     commit;"
  );
  let admin = std::env::var("KVQ_POSTGRES_ADMIN_URL").expect("admin URL");
  let mut psql = std::process::Command::new("psql")
    .args([
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      &admin,
      "-c",
      &other_process,
    ])
    .stdout(std::process::Stdio::null())
    .spawn()
    .expect("run psql");
  // Sleeping: its insert is in, its commit is not.
  let started = Instant::now();
  while pg::admin(
    "select count(*) from pg_stat_activity \
     where wait_event = 'PgSleep' and query like '%pg_sleep(0.8)%' \
       and pid <> pg_backend_pid()",
  ) != "1"
  {
    assert!(
      started.elapsed() < Duration::from_secs(5),
      "psql never got going"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
  }
  let acked = Instant::now();
  let done = head.iter().map(|m| (m.token, Outcome::Handled)).collect();
  store.finish(done).await.expect("finish");
  let waited = acked.elapsed();
  assert!(psql.wait().expect("psql").success(), "psql failed");
  let next = take(&store, 1, "r", 1, Duration::from_secs(3)).await;
  assert_eq!(
    next.iter().map(text).collect::<Vec<_>>(),
    ["behind"],
    "the enqueued message is the group's head now (the ack waited {waited:?})"
  );
  assert!(waited >= Duration::from_millis(300), "waited {waited:?}");
  let done = next.iter().map(|m| (m.token, Outcome::Handled)).collect();
  store.finish(done).await.expect("finish");
  assert_eq!(counts(&store, "r").await, [0; 5]);
  store.close();
}

/// An enqueue already answered as no duplicate (`unique`) that meets one
/// at commit undoes its whole write, as a failed check does, and only
/// it: the writes beside it in the same turn commit, with versionstamps
/// in order, and the store keeps writing afterwards.
#[tokio::test]
async fn a_unique_enqueue_that_meets_a_duplicate_undoes_only_its_write() {
  let Some(url) =
    pg::url("a_unique_enqueue_that_meets_a_duplicate_undoes_only_its_write")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let window = kvq_tests::now_ms() + 60_000;
  let mut first = message("u", "first", None);
  first.dedup = Some(("order-9".into(), window));
  let first_id = first.id.clone();
  send(&store, vec![first]).await;
  let with_set = |k: &str, m: NamedEnqueue| NamedWrite {
    atomic: Some(kvq_tests::write(vec![kvq_tests::set(
      kvq_tests::key(&[k]),
      KvValue::V8(kvq_tests::v8_string(k)),
    )])),
    enqueues: vec![m],
  };
  let mut twice = message("u", "twice", None);
  twice.dedup = Some(("order-9".into(), window));
  twice.unique = true;
  let mut fresh_unique = message("u", "fresh", Some("g"));
  fresh_unique.dedup = Some(("order-10".into(), window));
  fresh_unique.unique = true;
  let (before, undone, after) = tokio::join!(
    store.write_named(with_set("before", message("u", "b", Some("g")))),
    store.write_named(with_set("undone", twice)),
    store.write_named(with_set("after", fresh_unique)),
  );
  let before = before.expect("write").expect("committed");
  assert!(undone.expect("write").is_none(), "undone as a failed check");
  let after = after.expect("write").expect("committed");
  assert_eq!(before.enqueued, [Enqueued::Added]);
  assert_eq!(after.enqueued, [Enqueued::Added]);
  assert_ne!(before.versionstamp, after.versionstamp);
  for (k, committed) in [("before", &before), ("after", &after)] {
    let entry = kvq_tests::get(&store, &kvq_tests::key(&[k]))
      .await
      .expect("written");
    assert_eq!(entry.versionstamp, committed.versionstamp, "{k}");
  }
  let undone_key = kvq_tests::key(&["undone"]);
  assert!(kvq_tests::get(&store, &undone_key).await.is_none());
  // The window still names the first message; the undone one left none.
  let dedup = NamedAdmin::DedupOf("u".into(), "order-9".into());
  assert_eq!(
    store.named_admin(dedup).await.ok(),
    Some(NamedAnswer::Dedup(Some(first_id)))
  );
  assert_eq!(counts(&store, "u").await, [2, 0, 1, 0, 0], "one head waits");
  // First in its turn: the version counter's lock, taken after the
  // savepoint, went with the undo; the next write takes it again.
  let mut again = message("u", "again", None);
  again.dedup = Some(("order-9".into(), window));
  again.unique = true;
  let (undone, next) = tokio::join!(
    store.write_named(with_set("undone", again)),
    store.write_named(with_set("next", message("u", "n", None))),
  );
  assert!(undone.expect("write").is_none());
  let next = next.expect("write").expect("committed");
  assert!(next.versionstamp > after.versionstamp);
  let entry = kvq_tests::get(&store, &kvq_tests::key(&["next"])).await;
  assert_eq!(entry.map(|e| e.versionstamp), Some(next.versionstamp));
  assert!(kvq_tests::get(&store, &undone_key).await.is_none());
  // Writing goes on, versions still growing.
  let last = kvq_tests::commit(
    &store,
    kvq_tests::write(vec![kvq_tests::set(
      kvq_tests::key(&["last"]),
      KvValue::V8(kvq_tests::v8_string("last")),
    )]),
  )
  .await;
  assert!(last > next.versionstamp);
  store.close();
}

/// A write touching more groups of a queue than a transaction takes
/// group locks for locks the queue instead, and stays correct: each new
/// group's first message is its head, later ones wait behind it.
#[tokio::test]
async fn a_bulk_enqueue_into_many_groups_locks_the_queue_instead() {
  let Some(url) =
    pg::url("a_bulk_enqueue_into_many_groups_locks_the_queue_instead")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let groups = 1100;
  let batch = |tag: &str| -> Vec<NamedEnqueue> {
    (0..groups)
      .map(|g| message("bulk", &format!("{tag}{g}"), Some(&format!("g{g}"))))
      .collect()
  };
  send(&store, batch("first")).await;
  send(&store, batch("second")).await;
  assert_eq!(
    counts(&store, "bulk").await,
    [groups as u64, 0, groups as u64, 0, 0]
  );
  let got = take(&store, 1, "bulk", 1024, Duration::from_secs(5)).await;
  assert_eq!(got.len(), 1024);
  assert!(
    got.iter().all(|m| text(m).starts_with("first")),
    "heads only"
  );
  store.close();
}

/// A store whose schema an older kvq made (migration 1 only) gains the
/// named queues' tables when this kvq opens it, its data untouched.
#[tokio::test]
async fn a_schema_from_before_named_queues_is_migrated() {
  let Some(url) = pg::url("a_schema_from_before_named_queues_is_migrated")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let s = pg::schema_of(&url);
  let store = pg::open(&url, 30_000);
  let k = kvq_tests::key(&["kept"]);
  let set = kvq_tests::set(k.clone(), KvValue::V8(kvq_tests::v8_string("v")));
  let vs = kvq_tests::commit(&store, kvq_tests::write(vec![set])).await;
  store.close();
  // Back to what the older kvq left.
  pg::admin(&format!(
    "drop table {s}.named, {s}.named_dead, {s}.named_dedup, {s}.named_counters, \
       {s}.queue_waiting; \
     delete from {s}.kvq_migrations where version > 1"
  ));
  let store = pg::open(&url, 30_000);
  let versions = pg::admin(&format!(
    "select string_agg(version::text, ',' order by version) from {s}.kvq_migrations"
  ));
  assert_eq!(versions, "1,2,3,4");
  let entry = kvq_tests::get(&store, &k).await.expect("kept");
  assert_eq!(entry.versionstamp, vs);
  send(&store, vec![message("m", "works", None)]).await;
  let got = take(&store, 1, "m", 1, Duration::from_secs(5)).await;
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["works"]);
  store.close();
}

/// A store whose named tables an older kvq made (migration 2: one index
/// of every message by state, text in the database's collation) keeps its
/// messages through migration 3 (an index per state, text compared as
/// bytes) and 4 (the hand-off's registrations): ready and waiting ones,
/// each group still in order.
#[tokio::test]
async fn named_tables_of_schema_version_2_are_migrated_with_their_messages() {
  let Some(url) = pg::url(
    "named_tables_of_schema_version_2_are_migrated_with_their_messages",
  ) else {
    return;
  };
  let url = pg::fresh(&url);
  let s = pg::schema_of(&url);
  let store = pg::open(&url, 30_000);
  let mut batch = Vec::new();
  for i in 0..3 {
    batch.push(message("q", &format!("a{i}"), Some("a")));
    batch.push(message("q", &format!("b{i}"), Some("b")));
  }
  batch.push(message("q", "loose", None));
  send(&store, batch).await;
  store.close();
  // Back to what version 2 left, the rows kept.
  pg::admin(&format!(
    "drop index {s}.named_ready_idx; drop index {s}.named_leases_idx; \
     alter table {s}.named alter column queue type text collate \"default\", \
       alter column id type text collate \"default\", \
       alter column grp type text collate \"default\"; \
     create index named_by_due_idx on {s}.named (queue, state, due, id); \
     create index named_leases_idx on {s}.named (due) where state = 2; \
     drop table {s}.queue_waiting; \
     delete from {s}.kvq_migrations where version > 2"
  ));
  let store = pg::open(&url, 30_000);
  let versions = pg::admin(&format!(
    "select string_agg(version::text, ',' order by version) from {s}.kvq_migrations"
  ));
  assert_eq!(versions, "1,2,3,4");
  let collations = pg::admin(&format!(
    "select string_agg(column_name || ' ' || coalesce(collation_name, '-'), \
                       ',' order by column_name) \
     from information_schema.columns where table_schema = '{s}' \
     and table_name = 'named' and data_type = 'text' and column_name <> 'last_error'"
  ));
  assert_eq!(collations, "grp C,id C,queue C");
  assert_eq!(counts(&store, "q").await, [3, 0, 4, 0, 0]);
  let mut got: Vec<String> = Vec::new();
  let deadline = Instant::now() + Duration::from_secs(20);
  while got.len() < 7 && Instant::now() < deadline {
    let batch = take(&store, 1, "q", 10, Duration::from_millis(500)).await;
    got.extend(batch.iter().map(text));
    let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
    store.finish(done).await.expect("finish");
  }
  let of = |g: &str| -> Vec<String> {
    got.iter().filter(|t| t.starts_with(g)).cloned().collect()
  };
  assert_eq!(of("a"), ["a0", "a1", "a2"]);
  assert_eq!(of("b"), ["b0", "b1", "b2"]);
  assert_eq!(of("loose"), ["loose"]);
  store.close();
}

/// Queue names are listed in byte order, as on a file, whatever the
/// database's collation.
#[tokio::test]
async fn queue_names_are_listed_in_byte_order() {
  let Some(url) = pg::url("queue_names_are_listed_in_byte_order") else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  for q in ["b", "a", "B", "_x"] {
    send(&store, vec![message(q, "m", None)]).await;
  }
  match store.named_admin(NamedAdmin::Queues).await {
    Ok(NamedAnswer::Queues(q)) => assert_eq!(q, ["B", "_x", "a", "b"]),
    other => panic!("queues: {other:?}"),
  }
  store.close();
}
