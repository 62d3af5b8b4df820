//! Named queues on a SQLite file: the scenarios of kvq_tests::named, one
//! test each, on a fresh file each.

mod common;

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
