//! All-or-nothing: an atomic write whose sum fails writes nothing at all,
//! not even the mutations before the sum, and the version does not move
//! (Deno 2.9.6 commits those earlier mutations; kvq does not).

mod common;

use kvq_core::AtomicWrite;
use kvq_core::Check;
use kvq_core::JsClass;
use kvq_core::KvValue;
use kvq_core::Mutation;
use kvq_core::MutationKind;
use kvq_core::Store;
use kvq_tests::commit;
use kvq_tests::enqueue;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::sum;
use kvq_tests::v8_string;
use kvq_tests::write;

const NON_U64: &str =
  "Failed to perform 'sum' mutation on a non-U64 value in the database";

/// A file with every value encoding and a queue message in it.
async fn seeded(path: &str) -> Store {
  let store = kvq_tests::open(path, 30_000);
  let mut seed = write(vec![
    set(key(&["n"]), KvValue::V8(kvq_tests::v8_int(5))),
    set(key(&["bytes"]), KvValue::Bytes(vec![0, 1, 2])),
    set(key(&["u"]), KvValue::U64(7)),
    set(key(&["existing"]), KvValue::V8(v8_string("keep me"))),
  ]);
  let hour = 3_600_000;
  seed.enqueues = vec![enqueue(v8_string("later"), hour, Vec::new(), None)];
  commit(&store, seed).await;
  store
}

async fn assert_fails_and_changes_nothing(
  store: &Store,
  path: &str,
  atomic: AtomicWrite,
  message: &str,
) {
  let conn = common::inspect(path);
  let before = common::dump(&conn);
  let version = common::data_version(&conn);
  // The dump really covers the data: values, the queue, the version.
  for table in ["kv:", "queue:", "data_version:", "migration_state:"] {
    assert!(before.iter().any(|row| row.starts_with(table)), "{table}");
  }
  let e = store
    .atomic_write(atomic)
    .await
    .expect_err("the write fails");
  assert_eq!(e.to_string(), message);
  assert_eq!(e.js_class(), JsClass::TypeError);
  assert_eq!(e.code(), "KVQ_TYPE_MISMATCH");
  assert_eq!(common::dump(&conn), before, "every table is unchanged");
  assert_eq!(
    common::data_version(&conn),
    version,
    "the version is unchanged"
  );
}

#[tokio::test]
async fn failing_sum_after_set_writes_nothing() {
  let (_dir, path) = common::temp_db();
  let store = seeded(&path).await;
  let mut atomic = write(vec![
    set(key(&["a"]), KvValue::V8(v8_string("written?"))),
    Mutation {
      key: key(&["existing"]),
      kind: MutationKind::Delete,
      expire_at: None,
    },
    sum(key(&["u"]), KvValue::U64(1)),
    sum(key(&["n"]), KvValue::U64(1)),
  ]);
  atomic.enqueues = vec![enqueue(v8_string("no"), 0, Vec::new(), None)];
  assert_fails_and_changes_nothing(&store, &path, atomic, NON_U64).await;

  // A passing check does not change that, and min/max fail alike.
  let mut atomic = write(vec![
    set(key(&["b"]), KvValue::Bytes(vec![9])),
    Mutation {
      key: key(&["bytes"]),
      kind: MutationKind::Min(KvValue::U64(1)),
      expire_at: None,
    },
  ]);
  atomic.checks = vec![Check {
    key: key(&["missing"]),
    versionstamp: None,
  }];
  let min =
    "Failed to perform 'min' mutation on a non-U64 value in the database";
  assert_fails_and_changes_nothing(&store, &path, atomic, min).await;

  // The store still works, and nothing of the failed writes shows.
  let conn = common::inspect(&path);
  let version = common::data_version(&conn);
  let stamp =
    commit(&store, write(vec![sum(key(&["u"]), KvValue::U64(1))])).await;
  assert!(i64::from_be_bytes(stamp[..8].try_into().unwrap()) > version);
  let u = kvq_tests::get(&store, &key(&["u"])).await.expect("u");
  assert!(matches!(u.value, KvValue::U64(8)));
  assert!(kvq_tests::get(&store, &key(&["a"])).await.is_none());
  assert!(kvq_tests::get(&store, &key(&["existing"])).await.is_some());
  assert_eq!(common::queue_counts(&conn), (1, 0));
  store.close();
}
