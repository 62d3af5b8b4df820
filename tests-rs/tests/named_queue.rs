//! Named queues on a SQLite file: the scenarios of kvq_tests::named, one
//! test each, on a fresh file each.

mod common;

use std::time::Duration;

use kvq_tests::named;

macro_rules! on_a_file {
  ($($scenario:ident),* $(,)?) => {
    $(
      #[tokio::test]
      async fn $scenario() {
        let (_dir, path) = common::temp_db();
        let store = kvq_tests::open(&path, 30_000);
        named::$scenario(&store).await;
        store.close();
      }
    )*
  };
}

on_a_file!(
  queues_are_separate_and_ordered,
  groups_deliver_one_at_a_time_in_order,
  a_failing_head_blocks_only_its_group,
  a_duplicate_adds_nothing,
  enqueues_ride_in_atomic_writes,
  management_sees_and_repairs,
  cancel_and_purge_keep_groups_in_order,
  bad_input_is_refused,
);

/// A file whose `kvq_named` table a development build made before 0.1.0
/// (keyed by group, without `next`): named calls are refused with an
/// error that says so, not SQLite's "no such column", and the file's KV
/// data and Deno's queue go on working.
#[tokio::test]
async fn named_tables_of_an_older_layout_are_refused_clearly() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let kept = kvq_tests::key(&["kept"]);
  let w = kvq_tests::write(vec![kvq_tests::set(
    kept.clone(),
    kvq_core::KvValue::V8(kvq_tests::v8_string("yes")),
  )]);
  store
    .atomic_write(w)
    .await
    .expect("write")
    .expect("committed");
  store.close();
  let conn = rusqlite::Connection::open(&path).expect("open");
  conn
    .execute_batch(
      "create table kvq_named (queue text not null, grp text not null, \
       seq integer not null, id text not null, state integer not null, \
       due integer not null, attempts integer not null, \
       max_attempts integer not null, enqueued_at integer not null, \
       last_error text, data blob not null, \
       primary key (queue, grp, seq, id)) without rowid",
    )
    .expect("old table");
  drop(conn);
  let store = kvq_tests::open(&path, 30_000);
  let w = kvq_core::engine::NamedWrite {
    atomic: None,
    enqueues: vec![named::message("q", "x", Some("g"))],
  };
  let refused = store.write_named(w).await.expect_err("an old layout");
  let counts = store
    .named_admin(kvq_core::engine::NamedAdmin::Counts("q".into()))
    .await
    .expect_err("an old layout");
  for e in [refused, counts] {
    assert_eq!(e.code(), "KVQ_UNSUPPORTED", "{e}");
    assert!(e.to_string().contains("development build"), "{e}");
  }
  // The refused write added nothing beside the old table.
  let conn = rusqlite::Connection::open(&path).expect("open");
  let added: i64 = conn
    .query_row(
      "select count(*) from sqlite_master where name like 'kvq_named%' \
       and name <> 'kvq_named'",
      [],
      |r| r.get(0),
    )
    .expect("schema");
  assert_eq!(added, 0, "tables or indexes added beside the old table");
  drop(conn);
  let plain =
    kvq_tests::enqueue(kvq_tests::v8_string("plain"), 0, vec![], None);
  kvq_tests::commit(&store, kvq_tests::enqueues(vec![plain])).await;
  let got = kvq_tests::dequeue_within(&store, 1, Duration::from_secs(5)).await;
  assert_eq!(got.len(), 1, "Deno's queue delivers");
  let entry = kvq_tests::get(&store, &kept).await.expect("kept");
  match entry.value {
    kvq_core::KvValue::V8(bytes) => {
      assert_eq!(kvq_tests::parse_v8_string(&bytes).as_deref(), Some("yes"))
    }
    other => panic!("kept: {other:?}"),
  }
  store.close();
}
