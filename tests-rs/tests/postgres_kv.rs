//! KV semantics on Postgres, through the engine: what SQLite guarantees
//! holds here too, and across stores that share only the server.

#[path = "postgres_common/mod.rs"]
mod pg;

use std::num::NonZeroU32;
use std::time::Duration;

use kvq_core::AtomicWrite;
use kvq_core::Check;
use kvq_core::KvValue;
use kvq_core::Mutation;
use kvq_core::MutationKind;
use kvq_core::ReadRange;
use kvq_core::Store;
use kvq_tests::commit;
use kvq_tests::get;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::sum;
use kvq_tests::v8_string;
use kvq_tests::write;

async fn list(
  store: &Store,
  prefix: &str,
  limit: u32,
  reverse: bool,
) -> Vec<Vec<u8>> {
  let mut start = key(&[prefix]);
  start.pop();
  let mut end = start.clone();
  start.push(0);
  end.push(0xff);
  let range = ReadRange {
    start,
    end,
    limit: NonZeroU32::new(limit).expect("limit"),
    reverse,
  };
  let out = store.snapshot_read(vec![range]).await.expect("read");
  out[0].entries.iter().map(|e| e.key.clone()).collect()
}

#[tokio::test]
async fn set_get_delete_and_list_in_order() {
  let Some(url) = pg::url("set_get_delete_and_list_in_order") else {
    return;
  };
  let store = pg::open(&pg::fresh(&url), 30_000);
  let keys: Vec<Vec<u8>> = ["b", "a", "c", "d"]
    .iter()
    .map(|k| key(&["p", k]))
    .collect();
  for k in &keys {
    commit(
      &store,
      write(vec![set(k.clone(), KvValue::V8(v8_string("v")))]),
    )
    .await;
  }
  let forward = list(&store, "p", 10, false).await;
  let mut sorted = keys.clone();
  sorted.sort();
  assert_eq!(forward, sorted);
  let reverse = list(&store, "p", 2, true).await;
  assert_eq!(reverse, vec![sorted[3].clone(), sorted[2].clone()]);
  let delete = Mutation {
    key: keys[0].clone(),
    kind: MutationKind::Delete,
    expire_at: None,
  };
  commit(&store, write(vec![delete])).await;
  assert!(get(&store, &keys[0]).await.is_none());
  let entry = get(&store, &keys[1]).await.expect("a is set");
  assert!(matches!(entry.value, KvValue::V8(ref v) if *v == v8_string("v")));
  store.close();
}

#[tokio::test]
async fn versionstamps_grow_in_commit_order_across_stores() {
  let Some(url) = pg::url("versionstamps_grow_in_commit_order_across_stores")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let a = pg::open(&url, 30_000);
  let b = pg::open(&url, 30_000);
  let mut last = [0u8; 10];
  for i in 0..50 {
    let store = if i % 2 == 0 { &a } else { &b };
    let vs =
      commit(store, write(vec![set(key(&["n"]), KvValue::U64(i))])).await;
    assert!(vs > last, "{vs:?} after {last:?}");
    assert_eq!(&vs[8..], &[0, 0]);
    last = vs;
  }
  // Concurrent writers from both stores: every versionstamp distinct.
  let mut tasks = Vec::new();
  for i in 0..200u64 {
    let store = if i % 2 == 0 { a.clone() } else { b.clone() };
    tasks.push(tokio::spawn(async move {
      store
        .atomic_write(write(vec![set(
          key(&["c", &i.to_string()]),
          KvValue::U64(i),
        )]))
        .await
    }));
  }
  let mut stamps = Vec::new();
  for t in tasks {
    stamps.push(t.await.expect("join").expect("write").expect("committed"));
  }
  stamps.sort();
  stamps.dedup();
  assert_eq!(stamps.len(), 200);
  assert!(stamps[0] > last);
  a.close();
  b.close();
}

#[tokio::test]
async fn checks_and_a_failing_sum_write_nothing() {
  let Some(url) = pg::url("checks_and_a_failing_sum_write_nothing") else {
    return;
  };
  let store = pg::open(&pg::fresh(&url), 30_000);
  let k = key(&["k"]);
  let vs = commit(&store, write(vec![set(k.clone(), KvValue::U64(1))])).await;
  // A stale check fails and writes nothing.
  let stale = AtomicWrite {
    checks: vec![Check {
      key: k.clone(),
      versionstamp: None,
    }],
    mutations: vec![set(k.clone(), KvValue::U64(2))],
    enqueues: Vec::new(),
  };
  assert_eq!(store.atomic_write(stale).await.expect("write"), None);
  // A matching check passes.
  let fresh = AtomicWrite {
    checks: vec![Check {
      key: k.clone(),
      versionstamp: Some(vs),
    }],
    mutations: vec![sum(k.clone(), KvValue::U64(41))],
    enqueues: Vec::new(),
  };
  let vs2 = store.atomic_write(fresh).await.expect("write").expect("ok");
  let entry = get(&store, &k).await.expect("set");
  assert!(matches!(entry.value, KvValue::U64(42)));
  assert_eq!(entry.versionstamp, vs2);
  // A sum on a V8 value fails the whole write: the set before it too.
  let other = key(&["other"]);
  commit(
    &store,
    write(vec![set(key(&["s"]), KvValue::V8(v8_string("x")))]),
  )
  .await;
  let failing = write(vec![
    set(other.clone(), KvValue::U64(7)),
    sum(key(&["s"]), KvValue::U64(1)),
  ]);
  assert!(store.atomic_write(failing).await.is_err());
  assert!(get(&store, &other).await.is_none());
  // And the store goes on: later writes in the same batch commit.
  let writes = vec![
    write(vec![set(key(&["x1"]), KvValue::U64(1))]),
    write(vec![sum(key(&["s"]), KvValue::U64(1))]),
    write(vec![set(key(&["x2"]), KvValue::U64(2))]),
  ];
  let out = store.atomic_write_many(writes).await;
  assert!(out[0].is_ok() && out[1].is_err() && out[2].is_ok());
  assert!(get(&store, &key(&["x2"])).await.is_some());
  store.close();
}

#[tokio::test]
async fn expired_entries_are_never_read_and_are_collected() {
  let Some(url) = pg::url("expired_entries_are_never_read_and_are_collected")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let store = pg::open(&url, 30_000);
  let k = key(&["ttl"]);
  let m = Mutation {
    key: k.clone(),
    kind: MutationKind::Set(KvValue::U64(1)),
    expire_at: Some(kvq_tests::at_ms(kvq_tests::now_ms() + 300)),
  };
  commit(&store, write(vec![m])).await;
  assert!(get(&store, &k).await.is_some());
  tokio::time::sleep(Duration::from_millis(350)).await;
  assert!(get(&store, &k).await.is_none(), "an expired entry was read");
  // The collector deletes the row soon after.
  let table = format!("{}.kv", pg::schema_of(&url));
  let mut rows = String::new();
  for _ in 0..50 {
    rows = pg::admin(&format!("select count(*) from {table}"));
    if rows == "0" {
      break;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
  }
  assert_eq!(rows, "0");
  store.close();
}

#[tokio::test]
async fn a_watch_sees_another_stores_write_within_milliseconds() {
  let Some(url) =
    pg::url("a_watch_sees_another_stores_write_within_milliseconds")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let a = pg::open(&url, 30_000);
  let b = pg::open(&url, 30_000);
  let k = key(&["w"]);
  let mut watcher = kvq_tests::watch_unset(&b, k.clone(), false).await;
  // Let the listener settle before timing.
  tokio::time::sleep(Duration::from_millis(200)).await;
  let mut worst = Duration::ZERO;
  for i in 0..20u64 {
    let t = std::time::Instant::now();
    commit(&a, write(vec![set(k.clone(), KvValue::U64(i))])).await;
    let next = tokio::time::timeout(Duration::from_secs(2), watcher.next())
      .await
      .expect("a change within 2 s")
      .expect("watch")
      .expect("open");
    assert!(
      matches!(next[0].as_ref().map(|e| &e.value), Some(KvValue::U64(n)) if *n == i)
    );
    worst = worst.max(t.elapsed());
  }
  eprintln!("watch across stores: worst {worst:?}");
  assert!(worst < Duration::from_millis(500), "worst {worst:?}");
  a.close();
  b.close();
}

#[test]
fn many_processes_may_create_a_new_schema_at_once() {
  let Some(url) = pg::url("many_processes_may_create_a_new_schema_at_once")
  else {
    return;
  };
  let url = pg::fresh(&url);
  let threads: Vec<_> = (0..8)
    .map(|_| {
      let url = url.clone();
      std::thread::spawn(move || pg::try_open(&url, 30_000).map(|s| s.close()))
    })
    .collect();
  for t in threads {
    t.join().expect("join").expect("open");
  }
  let schema = pg::schema_of(&url);
  let versions = pg::admin(&format!(
    "select string_agg(version::text, ',' order by version) \
     from {schema}.kvq_migrations"
  ));
  // Each migration applied exactly once.
  let all: Vec<String> = (1..=kvq_core::postgres::SCHEMA_VERSION)
    .map(|v| v.to_string())
    .collect();
  assert_eq!(versions, all.join(","));
}

#[test]
fn bad_urls_and_refused_logins_say_where_and_never_the_password() {
  let Some(url) =
    pg::url("bad_urls_and_refused_logins_say_where_and_never_the_password")
  else {
    return;
  };
  let (scheme_user, rest) = url.rsplit_once('@').expect("user in the URL");
  let (user_part, _password) = scheme_user.rsplit_once(':').expect("password");
  let host_port = rest.split('/').next().expect("host");
  let cases = [
    // A refused login.
    (
      format!("{user_part}:wrong-secret-1@{rest}"),
      "password authentication failed",
    ),
    // A missing database.
    (
      format!("{user_part}:wrong-secret-1@{host_port}/no_such_db"),
      "no_such_db",
    ),
    // Nothing listening.
    (
      "postgres://kvq:wrong-secret-1@127.0.0.1:1/kvq".to_string(),
      "127.0.0.1:1",
    ),
    // Not a URL tokio-postgres can read.
    (
      "postgres://kvq:wrong-secret-1@127.0.0.1:notaport/kvq".to_string(),
      "not a valid Postgres URL",
    ),
  ];
  for (bad, expected) in cases {
    let opened = pg::try_open(&bad, 30_000);
    let Err(e) = opened else {
      panic!("{bad} opened");
    };
    let text = e.to_string();
    eprintln!("{text}");
    assert!(text.contains(expected), "{text}");
    assert!(!text.contains("wrong-secret-1"), "{text}");
  }
  // A missing database also names the host and the user.
  let bad = format!("{user_part}:{}@{host_port}/no_such_db", _password);
  let text = pg::try_open(&bad, 30_000).err().map(|e| e.to_string());
  let text = text.unwrap_or_default();
  assert!(
    text.contains(host_port) && text.contains("no_such_db"),
    "{text}"
  );
  assert!(!text.contains(_password), "{text}");
}
