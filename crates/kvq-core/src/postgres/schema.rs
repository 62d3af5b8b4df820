//! kvq's tables in Postgres, created and migrated by kvq, and every
//! statement it runs on them.
//!
//! One schema per store (`?schema=`, default `kvq`), so several stores
//! share a database. Its tables, for an operator with psql:
//!
//! - `kv`: one row per key. `k` is the key in Deno's key encoding (bytea
//!   orders as the keys do), `v` the value, `v_encoding` 1 = V8, 2 = KvU64
//!   (8 bytes little-endian), 3 = bytes; `version` the commit's version;
//!   `expires_at` epoch ms or null.
//! - `data_version`: the one counter row. Every committing write
//!   transaction takes its row lock and moves it forward, so versions
//!   (versionstamps: the version big-endian, then two zero bytes) grow
//!   strictly in commit order.
//! - `queue`: one row per message. Ready while `deadline` is null (due at
//!   `ts`, epoch ms), leased to a listener until `deadline` otherwise; `id`
//!   orders messages due at the same time; `backoff_schedule` the retry
//!   intervals left (ms), `keys_if_undelivered` the dead-letter keys (JSON
//!   arrays of key bytes, Deno's shape); `attempts` counts deliveries.
//! - `named`: kvq's named queues (engine/named.rs; migration 2), one row
//!   per message not yet done, never seen by Deno's `queue`. `queue` and
//!   `id` name it; `state` says where it is: 0 ready (due at `due`, epoch
//!   ms), 1 waiting behind the head of its ordering group, 2 running
//!   (leased to a listener until `due`). `grp` and `seq` are its group and
//!   place in it (a group's head is its lowest `seq`, the only one ever
//!   ready or running; numbering starts again at 1 once a group empties);
//!   `attempts` counts failed attempts, `max_attempts` is where a lapsed
//!   lease makes it dead, `last_error` the last attempt's error, `data`
//!   the V8 payload, `enqueued_at` epoch ms. Its indexes follow the
//!   states (migration 3): ready rows by (queue, due, id), running ones by
//!   (due, queue, id), grouped ones by (queue, grp, seq). A move between
//!   states rewrites the row in every index whose condition it meets, so
//!   an index per state costs a claim one entry instead of one in an index
//!   of every row; and an acknowledgement or renewal names its lease
//!   (queue, id, due) whole, where the lease end alone (a claim gives one
//!   end to its whole batch) would match the batch.
//! - `named_dead`: named queues' dead letters, the same columns without
//!   `state` and `due`, with `failed_at` (epoch ms) instead.
//! - `named_dedup`: per queue and deduplication id, the first message's
//!   `id`, the `version` of the commit that stored it (its versionstamp,
//!   as in `kv`) and the end of its window (`until`, epoch ms). Rows past
//!   their window are deleted by the periodic sweep of lapsed leases.
//! - `named_counters`: what happened per queue (`name`: enqueued, acked,
//!   retried, dead), in `stripe`s: a queue's total is the sum of its
//!   stripes (each transaction adds to one stripe picked at random, so
//!   processes draining one queue do not wait on one row).
//! - `queue_waiting`: stores with a listener on the anonymous queue that
//!   found nothing to claim (migration 4), one row each: `store` its id,
//!   `free` how many more messages it would take now, `until` (epoch ms)
//!   when the row goes stale unless a claim renews it, `lease_ms` its
//!   lease, `alive` the advisory lock its LISTEN session holds. A process
//!   that enqueues a message ready at once leases it to such a store in
//!   the enqueuing transaction and hands it over in a notification on
//!   the store's own channel (`kvq_h_<store>`), payload included when
//!   small: the listener runs it without a claim's round trip (queue.rs,
//!   "hand-off"). A row whose lock is free (its session is gone: a killed
//!   process) is passed over.
//! - `kvq_migrations`: the versions applied.
//!
//! The text columns of the `named` tables compare as bytes (`collate
//! "C"`, migration 3): ids and queue names sort as on a SQLite file, and
//! the indexes on them compare with memcmp rather than through the
//! database's locale, on every entry a claim or an acknowledgement adds or
//! looks up (see the bench's named-queue scenarios).
//!
//! Migrations run in one transaction under an advisory lock on the
//! schema's name, so any number of processes may open a new database at
//! once: one creates, the others wait and then find it done.

use crate::error::Result;

/// Migration i takes the schema from version i to i + 1. `{s}` stands for
/// the quoted schema name. Never edit one that shipped: append.
const MIGRATIONS: [&str; 4] = ["
create table {s}.data_version (
  k integer primary key,
  version bigint not null
);
insert into {s}.data_version (k, version) values (0, 0);
create table {s}.kv (
  k bytea primary key,
  v bytea not null,
  v_encoding smallint not null,
  version bigint not null,
  expires_at bigint
);
create index kv_expires_at_idx on {s}.kv (expires_at) where expires_at is not null;
create table {s}.queue (
  id bigint generated always as identity primary key,
  ts bigint not null,
  deadline bigint,
  data bytea not null,
  backoff_schedule jsonb not null,
  keys_if_undelivered jsonb not null,
  attempts integer not null default 0,
  enqueued_at timestamptz not null default now()
);
create index queue_ready_idx on {s}.queue (ts, id) where deadline is null;
create index queue_running_idx on {s}.queue (deadline) where deadline is not null;
", "
create table {s}.named (
  queue text not null,
  id text not null,
  state smallint not null,
  due bigint not null,
  grp text,
  seq bigint,
  attempts integer not null default 0,
  max_attempts integer not null,
  enqueued_at bigint not null,
  last_error text,
  data bytea not null,
  primary key (queue, id)
);
create index named_by_due_idx on {s}.named (queue, state, due, id);
create index named_by_group_idx on {s}.named (queue, grp, seq) where grp is not null;
create index named_leases_idx on {s}.named (due) where state = 2;
create table {s}.named_dead (
  queue text not null,
  id text not null,
  grp text,
  seq bigint,
  attempts integer not null,
  max_attempts integer not null,
  enqueued_at bigint not null,
  last_error text not null,
  failed_at bigint not null,
  data bytea not null,
  primary key (queue, id)
);
create table {s}.named_dedup (
  queue text not null,
  dedup_id text not null,
  id text not null,
  version bigint not null,
  until bigint not null,
  primary key (queue, dedup_id)
);
create index named_dedup_until_idx on {s}.named_dedup (until);
create table {s}.named_counters (
  queue text not null,
  name text not null,
  stripe smallint not null,
  value bigint not null,
  primary key (queue, name, stripe)
);
", "
drop index {s}.named_by_due_idx;
drop index {s}.named_leases_idx;
alter table {s}.named alter column queue type text collate \"C\",
  alter column id type text collate \"C\", alter column grp type text collate \"C\";
alter table {s}.named_dead alter column queue type text collate \"C\",
  alter column id type text collate \"C\", alter column grp type text collate \"C\";
alter table {s}.named_dedup alter column queue type text collate \"C\",
  alter column dedup_id type text collate \"C\", alter column id type text collate \"C\";
alter table {s}.named_counters alter column queue type text collate \"C\",
  alter column name type text collate \"C\";
create index named_ready_idx on {s}.named (queue, due, id) where state = 0;
create index named_leases_idx on {s}.named (due, queue, id) where state = 2;
", "
create table {s}.queue_waiting (
  store text collate \"C\" primary key,
  free integer not null,
  until bigint not null,
  lease_ms bigint not null,
  alive bigint not null
);
"];

/// The largest payload a hand-off notification carries (in hex, under
/// Postgres's 8000-byte limit with the lease); a larger one is read by
/// the listener.
pub const HAND_OFF_MAX: usize = 3900;

/// How a written row replaces the stored one, in every insert into `kv`.
pub const KV_UPSERT: &str = "on conflict (k) do update set v = excluded.v, \
  v_encoding = excluded.v_encoding, version = excluded.version, \
  expires_at = excluded.expires_at";

/// The schema version this engine writes and reads.
pub const CURRENT: i32 = MIGRATIONS.len() as i32;

/// `name` as a quoted identifier.
pub fn quote_ident(name: &str) -> String {
  format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates or migrates the schema. A schema already at [`CURRENT`] is only
/// read; otherwise one process at a time migrates, under an advisory lock.
pub async fn migrate(
  client: &tokio_postgres::Client,
  schema: &str,
) -> Result<(), MigrateError> {
  if version(client, schema).await? >= CURRENT {
    return Ok(());
  }
  let s = quote_ident(schema);
  client.batch_execute("begin").await?;
  let done = async {
    client
      .execute(
        "select pg_advisory_xact_lock(hashtext('kvq migrations ' || $1::text))",
        &[&schema],
      )
      .await?;
    client
      .batch_execute(&format!(
        "create schema if not exists {s}; \
         create table if not exists {s}.kvq_migrations ( \
           version integer primary key, \
           applied_at timestamptz not null default now())"
      ))
      .await?;
    let at = version(client, schema).await?;
    if at > CURRENT {
      return Err(MigrateError::TooNew(at));
    }
    for (i, migration) in MIGRATIONS.iter().enumerate() {
      let v = i as i32 + 1;
      if v > at {
        client.batch_execute(&migration.replace("{s}", &s)).await?;
        client
          .execute(
            &format!("insert into {s}.kvq_migrations (version) values ($1)"),
            &[&v],
          )
          .await?;
      }
    }
    client.batch_execute("commit").await?;
    Ok(())
  }
  .await;
  if done.is_err() {
    let _ = client.batch_execute("rollback").await;
  }
  done
}

/// What can stop a migration.
#[derive(Debug)]
pub enum MigrateError {
  /// The database refused a statement or the connection failed.
  Postgres(tokio_postgres::Error),
  /// The schema was written by a newer kvq.
  TooNew(i32),
}

impl From<tokio_postgres::Error> for MigrateError {
  fn from(e: tokio_postgres::Error) -> Self {
    MigrateError::Postgres(e)
  }
}

async fn version(
  client: &tokio_postgres::Client,
  schema: &str,
) -> Result<i32, MigrateError> {
  let table = format!("{}.kvq_migrations", quote_ident(schema));
  let exists: bool = client
    .query_one("select to_regclass($1) is not null", &[&table])
    .await?
    .get(0);
  if !exists {
    return Ok(0);
  }
  let row = client
    .query_one(
      &format!("select coalesce(max(version), 0) from {table}"),
      &[],
    )
    .await?;
  Ok(row.get(0))
}

/// Every statement kvq runs, with the schema written in.
pub struct Sql {
  /// The schema, quoted.
  pub schema: String,
  pub bump_version: String,
  pub set_version: String,
  pub read_range: String,
  pub read_range_reverse: String,
  pub get_many: String,
  pub upsert_many: String,
  pub delete_many: String,
  pub delete_expired: String,
  pub earliest_expiry: String,
  pub enqueue_many: String,
  pub claim: String,
  pub claim_plain: String,
  pub claim_handed: String,
  pub unregister: String,
  pub renew: String,
  pub acknowledge: String,
  pub release: String,
  pub lock_running: String,
  pub requeue: String,
  pub delete_message: String,
  pub lapsed: String,
  pub earliest_ready: String,
  pub notify: String,
  /// Named queues' statements (named.rs).
  pub named: super::named::NamedSql,
}

impl Sql {
  /// The statements for tables in `schema`.
  pub fn new(schema: &str) -> Sql {
    let s = quote_ident(schema);
    // The claim alone, without the registration: while claims find all
    // they ask for (a backlog drains), a store that is not registered
    // has none to write, and this statement is the cheaper one.
    let claim_plain = format!(
      "update {s}.queue q set deadline = $2, attempts = q.attempts + 1 \
       from (select id from {s}.queue where deadline is null and ts <= $1 \
             order by ts, id limit $3 for update skip locked) r \
       where q.id = r.id returning q.id, q.ts, q.data"
    );
    Sql {
      schema: s.clone(),
      bump_version: format!(
        "update {s}.data_version set version = version + $1 where k = 0 returning version"
      ),
      set_version: format!(
        "update {s}.data_version set version = $1 where k = 0"
      ),
      read_range: format!(
        "select k, v, v_encoding, version from {s}.kv \
         where k >= $1 and k < $2 and (expires_at is null or expires_at > $3) \
         order by k limit $4"
      ),
      read_range_reverse: format!(
        "select k, v, v_encoding, version from {s}.kv \
         where k >= $1 and k < $2 and (expires_at is null or expires_at > $3) \
         order by k desc limit $4"
      ),
      get_many: format!(
        "select k, v, v_encoding, version from {s}.kv \
         where k = any($1) and (expires_at is null or expires_at > $2)"
      ),
      upsert_many: format!(
        "insert into {s}.kv (k, v, v_encoding, version, expires_at) \
         select * from unnest($1::bytea[], $2::bytea[], $3::smallint[], $4::bigint[], $5::bigint[]) \
         {KV_UPSERT}"
      ),
      delete_many: format!("delete from {s}.kv where k = any($1)"),
      delete_expired: format!(
        "delete from {s}.kv where expires_at <= $1 returning k"
      ),
      earliest_expiry: format!(
        "select min(expires_at) from {s}.kv where expires_at is not null"
      ),
      // The messages, the first ready one leased at once to a store whose
      // listener waits, if any (queue.rs, "hand-off").
      enqueue_many: format!(
        "with {} select {} from h",
        super::queue::messages_ctes(&s, 1),
        super::queue::hand_off_notify()
      ),
      // The claim of a listener (store $4, its LISTEN session's lock $6) that
      // registers it as waiting when the claim finds fewer than it asked
      // for, and unregisters it when it finds them all (see `enqueue_many`);
      // each only when that changes what the store believes registered
      // ($7: its room, -1 none, -2 not known; $8: write it again anyway).
      claim: format!(
        "with c as ({claim_plain}), \
         n as (select count(*) as got from c), \
         w as (insert into {s}.queue_waiting (store, free, until, lease_ms, alive) \
           select $4::text, $3 - n.got, $5::bigint, $2 - $1, $6::bigint from n \
           where n.got < $3 and $6::bigint <> 0 and ($7::bigint <> $3 - n.got or $8::boolean) \
           on conflict (store) do update set free = excluded.free, until = excluded.until, \
           lease_ms = excluded.lease_ms, alive = excluded.alive), \
         d as (delete from {s}.queue_waiting where store = $4 and $7::bigint <> -1 \
           and ((select got from n) >= $3 or $6::bigint = 0)) \
         select id, ts, data from c"
      ),
      claim_plain,
      // Messages handed over too large for the notification: read by
      // their lease.
      claim_handed: format!(
        "select q.id, q.ts, q.data from {s}.queue q \
         join unnest($1::bigint[], $2::bigint[]) as l(id, deadline) \
         on q.id = l.id and q.deadline = l.deadline"
      ),
      unregister: format!("delete from {s}.queue_waiting where store = $1"),
      renew: format!(
        "update {s}.queue q set deadline = $1 \
         from unnest($2::bigint[], $3::bigint[]) as l(id, deadline) \
         where q.id = l.id and q.deadline = l.deadline returning q.id"
      ),
      acknowledge: format!(
        "delete from {s}.queue q using unnest($1::bigint[], $2::bigint[]) as l(id, deadline) \
         where q.id = l.id and q.deadline = l.deadline"
      ),
      release: format!(
        "update {s}.queue q set deadline = null, ts = $3, attempts = greatest(q.attempts - 1, 0) \
         from unnest($1::bigint[], $2::bigint[]) as l(id, deadline) \
         where q.id = l.id and q.deadline = l.deadline"
      ),
      lock_running: format!(
        "select data, backoff_schedule::text, keys_if_undelivered::text from {s}.queue \
         where id = $1 and deadline = $2 for update skip locked"
      ),
      requeue: format!(
        "update {s}.queue set deadline = null, ts = $2, backoff_schedule = $3::text::jsonb \
         where id = $1"
      ),
      delete_message: format!("delete from {s}.queue where id = $1"),
      lapsed: format!(
        "select id, deadline from {s}.queue \
         where deadline is not null and deadline <= $1 order by deadline limit 256"
      ),
      earliest_ready: format!(
        "select min(ts) from {s}.queue where deadline is null"
      ),
      notify: "select pg_notify($1, $2)".to_string(),
      named: super::named::NamedSql::new(schema),
    }
  }
}

#[cfg(test)]
mod tests {
  #[test]
  fn identifiers_are_quoted() {
    assert_eq!(super::quote_ident("kvq"), "\"kvq\"");
    assert_eq!(super::quote_ident("a\"b"), "\"a\"\"b\"");
  }
}
