//! The KV half of the SQLite backend: reads, atomic writes and expiry on
//! Deno's `kv` and `data_version` tables. Plain synchronous rusqlite; every
//! function runs inside the transaction its caller opened.

use denokv_proto::AtomicWrite;
use denokv_proto::KvEntry;
use denokv_proto::KvValue;
use denokv_proto::MutationKind;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use rusqlite::params;
use rusqlite::Connection;
use rusqlite::OptionalExtension;

use super::queue;
use crate::encoding::decode_value;
use crate::encoding::encode_value;
use crate::encoding::version_step;
use crate::encoding::versionstamp;
use crate::engine::Applied;
use crate::error::Result;
use crate::sum;

const STATEMENT_INC_AND_GET_DATA_VERSION: &str =
  "update data_version set version = version + ? where k = 0 returning version";
const STATEMENT_KV_RANGE_SCAN: &str =
  "select k, v, v_encoding, version from kv \
   where k >= ? and k < ? and (expiration_ms < 0 or expiration_ms > ?) \
   order by k asc limit ?";
const STATEMENT_KV_RANGE_SCAN_REVERSE: &str =
  "select k, v, v_encoding, version from kv \
   where k >= ? and k < ? and (expiration_ms < 0 or expiration_ms > ?) \
   order by k desc limit ?";
const STATEMENT_KV_POINT_GET_VALUE_ONLY: &str = "select v, v_encoding from kv \
   where k = ? and (expiration_ms < 0 or expiration_ms > ?)";
const STATEMENT_KV_POINT_GET_VERSION_ONLY: &str = "select version from kv \
   where k = ? and (expiration_ms < 0 or expiration_ms > ?)";
const STATEMENT_KV_POINT_SET: &str = "insert into kv (k, v, v_encoding, version, expiration_ms) \
   values (:k, :v, :v_encoding, :version, :expiration_ms) on conflict(k) do update \
   set v = :v, v_encoding = :v_encoding, version = :version, expiration_ms = :expiration_ms";
const STATEMENT_KV_POINT_DELETE: &str = "delete from kv where k = ?";
const STATEMENT_DELETE_ALL_EXPIRED: &str =
  "delete from kv where expiration_ms >= 0 and expiration_ms <= ? returning k";
const STATEMENT_EARLIEST_EXPIRATION: &str =
  "select expiration_ms from kv where expiration_ms >= 0 order by expiration_ms limit 1";

/// Answers a snapshot read, never returning an entry expired at `now`.
/// Several ranges must run inside one transaction to share a snapshot.
pub fn snapshot_read(
  tx: &Connection,
  ranges: &[ReadRange],
  now: i64,
) -> Result<Vec<ReadRangeOutput>> {
  let mut out = Vec::with_capacity(ranges.len());
  for range in ranges {
    let sql = if range.reverse {
      STATEMENT_KV_RANGE_SCAN_REVERSE
    } else {
      STATEMENT_KV_RANGE_SCAN
    };
    let mut stmt = tx.prepare_cached(sql)?;
    let mut rows = stmt.query(params![
      range.start.as_slice(),
      range.end.as_slice(),
      now,
      range.limit.get()
    ])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
      let encoding: i64 = row.get(2)?;
      let value = decode_value(row.get(1)?, encoding)?;
      entries.push(KvEntry {
        key: row.get(0)?,
        value,
        versionstamp: versionstamp(row.get(3)?),
      });
    }
    out.push(ReadRangeOutput { entries });
  }
  Ok(out)
}

/// Moves the data version forward by a random 1..=9, as Deno does, and
/// returns the new version.
pub fn bump_version(tx: &Connection, by: i64) -> Result<i64> {
  Ok(
    tx.prepare_cached(STATEMENT_INC_AND_GET_DATA_VERSION)?
      .query_row([by], |r| r.get(0))?,
  )
}

/// Writes one entry (set, sum result, dead letter).
pub fn put(
  tx: &Connection,
  key: &[u8],
  value: &KvValue,
  version: i64,
  expire_at_ms: i64,
) -> Result<()> {
  let (bytes, encoding) = encode_value(value);
  tx.prepare_cached(STATEMENT_KV_POINT_SET)?.execute(params![
    key,
    bytes.as_ref(),
    encoding,
    version,
    expire_at_ms
  ])?;
  Ok(())
}

fn get_value(tx: &Connection, key: &[u8], now: i64) -> Result<Option<KvValue>> {
  let row = tx
    .prepare_cached(STATEMENT_KV_POINT_GET_VALUE_ONLY)?
    .query_row(params![key, now], |r| {
      Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
    })
    .optional()?;
  row.map(|(v, e)| decode_value(v, e)).transpose()
}

/// Applies one atomic write inside `tx`. The caller wraps it in a savepoint
/// and rolls back on error, which makes the write all-or-nothing even though
/// it shares the transaction with others (group commit).
pub fn apply_atomic(
  tx: &Connection,
  write: &AtomicWrite,
  now: i64,
) -> Result<Applied> {
  let mut applied = Applied::default();
  let keys_out = &mut applied.changed_keys;
  for check in &write.checks {
    let stored: Option<i64> = tx
      .prepare_cached(STATEMENT_KV_POINT_GET_VERSION_ONLY)?
      .query_row(params![check.key.as_slice(), now], |r| r.get(0))
      .optional()?;
    if stored.map(versionstamp) != check.versionstamp {
      return Ok(applied);
    }
  }
  let version = bump_version(tx, version_step())?;
  let versionstamp = versionstamp(version);
  for mutation in &write.mutations {
    let expire_at = match mutation.expire_at {
      Some(t) => {
        let ms = t.timestamp_millis();
        applied.earliest_expiry =
          Some(applied.earliest_expiry.map_or(ms, |e: i64| e.min(ms)));
        ms
      }
      None => -1,
    };
    let key = &mutation.key;
    match &mutation.kind {
      MutationKind::Set(value) => put(tx, key, value, version, expire_at)?,
      MutationKind::Delete => {
        tx.prepare_cached(STATEMENT_KV_POINT_DELETE)?
          .execute([key])?;
      }
      MutationKind::SetSuffixVersionstampedKey(value) => {
        let full = crate::encoding::versionstamped_key(key, &versionstamp);
        put(tx, &full, value, version, expire_at)?;
        keys_out.push(full);
        continue;
      }
      MutationKind::Sum { value, .. } => {
        let next =
          sum::apply(sum::Arith::Sum, get_value(tx, key, now)?, value)?;
        put(tx, key, &next, version, -1)?;
      }
      MutationKind::Min(value) => {
        let next =
          sum::apply(sum::Arith::Min, get_value(tx, key, now)?, value)?;
        put(tx, key, &next, version, -1)?;
      }
      MutationKind::Max(value) => {
        let next =
          sum::apply(sum::Arith::Max, get_value(tx, key, now)?, value)?;
        put(tx, key, &next, version, -1)?;
      }
    }
    keys_out.push(key.clone());
  }
  for enqueue in &write.enqueues {
    let ts = queue::insert_ready(tx, enqueue)?;
    applied.earliest_enqueue =
      Some(applied.earliest_enqueue.map_or(ts, |e: i64| e.min(ts)));
  }
  applied.versionstamp = Some(versionstamp);
  Ok(applied)
}

/// Deletes every entry expired at `now`, moving the version by 1 when any
/// went, and returns their keys.
pub fn collect_expired(tx: &Connection, now: i64) -> Result<Vec<Vec<u8>>> {
  let keys = tx
    .prepare_cached(STATEMENT_DELETE_ALL_EXPIRED)?
    .query_map([now], |r| r.get::<_, Vec<u8>>(0))?
    .collect::<Result<Vec<_>, _>>()?;
  if !keys.is_empty() {
    bump_version(tx, 1)?;
  }
  Ok(keys)
}

/// The earliest expiry time stored, if any.
pub fn earliest_expiration(conn: &Connection) -> Result<Option<i64>> {
  Ok(
    conn
      .prepare_cached(STATEMENT_EARLIEST_EXPIRATION)?
      .query_row([], |r| r.get(0))
      .optional()?,
  )
}

/// SQLite's counter of commits made by other connections to this file.
/// Asked up to 200 times a second by an idle listener: kept prepared.
pub fn data_version(conn: &Connection) -> Result<i64> {
  Ok(
    conn
      .prepare_cached("pragma data_version")?
      .query_row([], |r| r.get(0))?,
  )
}

#[cfg(test)]
mod tests {
  use std::num::NonZeroU32;

  use rusqlite::StatementStatus;

  use super::*;
  use crate::engine::Durability;

  fn range(limit: u32) -> ReadRange {
    ReadRange {
      start: vec![0],
      end: vec![0xff],
      limit: NonZeroU32::new(limit).expect("limit above zero"),
      reverse: false,
    }
  }

  /// A range read with a new limit must reuse its prepared statement: a
  /// re-prepare per read once cost half of every `get`.
  #[test]
  fn range_reads_keep_their_prepared_statement() -> Result<()> {
    let conn = super::super::connection::open(None, Durability::Full)?.conn;
    for limit in [1, 7, 1, 500, 2] {
      snapshot_read(&conn, &[range(limit)], 0)?;
    }
    let stmt = conn.prepare_cached(STATEMENT_KV_RANGE_SCAN)?;
    assert_eq!(stmt.get_status(StatementStatus::Run), 5);
    assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0);
    Ok(())
  }
}
