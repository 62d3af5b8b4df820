//! The on-disk schema: exactly what denokv_sqlite (Deno 2.9.6) leaves, so a
//! file moves between kvq and Deno in both directions.
//!
//! `migration_state` row (0, 3) tells Deno its three migrations are applied;
//! a file missing steps gets them here, in one transaction, as Deno would.
//! kvq adds one table, and only when it first needs it: messages it cannot
//! read are moved to `kvq_unreadable_queue` (never deleted). Deno ignores
//! it, and its migrations run as before. Otherwise kvq finds its queue rows
//! by their primary
//! keys, which it keeps in memory, so Deno's tables serve as they are.

use rusqlite::Connection;
use rusqlite::OptionalExtension;

use crate::error::Result;

const CREATE_MIGRATION_TABLE: &str = "
create table if not exists migration_state(
  k integer not null primary key,
  version integer not null
)
";

/// Deno's migrations, verbatim (denokv sqlite/backend.rs); index i takes the
/// file from version i to i + 1.
const MIGRATIONS: [&str; 3] = [
  "
create table data_version (
  k integer primary key,
  version integer not null
);
insert into data_version (k, version) values (0, 0);
create table kv (
  k blob primary key,
  v blob not null,
  v_encoding integer not null,
  version integer not null
) without rowid;
",
  "
create table queue (
  ts integer not null,
  id text not null,
  data blob not null,
  backoff_schedule text not null,
  keys_if_undelivered blob not null,

  primary key (ts, id)
);
create table queue_running(
  deadline integer not null,
  id text not null,
  data blob not null,
  backoff_schedule text not null,
  keys_if_undelivered blob not null,

  primary key (deadline, id)
);
",
  "
alter table kv add column seq integer not null default 0;
alter table data_version add column seq integer not null default 0;
alter table kv add column expiration_ms integer not null default -1;
create index kv_expiration_ms_idx on kv (expiration_ms);
",
];

/// Where queue rows that cannot be read are set aside (docs/api.md,
/// "Unreadable queue messages"): the row as it was, why, and when.
pub const CREATE_UNREADABLE_TABLE: &str = "
create table if not exists kvq_unreadable_queue (
  id text not null primary key,
  data blob,
  backoff_schedule blob,
  keys_if_undelivered blob,
  reason text not null,
  set_aside_ms integer not null
)
";

/// The schema version this engine writes and reads.
const CURRENT: usize = MIGRATIONS.len();

/// Brings a writable connection's schema up to Deno's version 3. A file
/// already there is only read: opening it takes no write lock, so it never
/// waits for another process's writer.
pub fn migrate(conn: &mut Connection) -> Result<()> {
  if version(conn)? >= CURRENT {
    return Ok(());
  }
  let tx =
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
  tx.execute(CREATE_MIGRATION_TABLE, [])?;
  let current = version(&tx)?;
  for (i, migration) in MIGRATIONS.iter().enumerate() {
    let version = i + 1;
    if version > current {
      tx.execute_batch(migration)?;
      tx.execute(
        "replace into migration_state (k, version) values (?, ?)",
        [0, version],
      )?;
    }
  }
  tx.commit()?;
  Ok(())
}

/// The file's schema version: 0 for a new file.
fn version(conn: &Connection) -> Result<usize> {
  let exists: bool = conn.query_row(
    "select count(*) > 0 from sqlite_master \
     where type = 'table' and name = 'migration_state'",
    [],
    |r| r.get(0),
  )?;
  if !exists {
    return Ok(0);
  }
  Ok(
    conn
      .query_row("select version from migration_state where k = 0", [], |r| {
        r.get(0)
      })
      .optional()?
      .unwrap_or(0),
  )
}
