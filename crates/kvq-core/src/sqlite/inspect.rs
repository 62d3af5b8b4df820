//! The SQLite side of kvq's own reads for moving data
//! (engine/inspect.rs): expiries from `kv.expiration_ms` (-1: none) and
//! the messages in Deno's `queue` and `queue_running` tables.

use rusqlite::params;
use rusqlite::Connection;
use rusqlite::OptionalExtension;

use crate::engine::PendingMessage;
use crate::engine::PendingPage;
use crate::error::Error;
use crate::error::Result;

const STATEMENT_EXPIRY: &str = "select expiration_ms from kv where k = ?";

/// Both queue tables in one order, (due, id): a ready row is due at its
/// `ts`, a leased one comes back at its `deadline`. A page starts after
/// the cursor's (due, id).
const STATEMENT_PENDING: &str = "select due, id, leased, data, \
   backoff_schedule, keys_if_undelivered from ( \
     select ts as due, id, 0 as leased, data, backoff_schedule, keys_if_undelivered from queue \
     union all \
     select deadline as due, id, 1 as leased, data, backoff_schedule, keys_if_undelivered \
       from queue_running) \
   where due > ?1 or (due = ?1 and id > ?2) order by due, id limit ?3";

/// Each key's expiry in epoch ms, `None` for none or no such key.
pub fn expiries(
  conn: &Connection,
  keys: &[Vec<u8>],
) -> Result<Vec<Option<i64>>> {
  let mut stmt = conn.prepare_cached(STATEMENT_EXPIRY)?;
  keys
    .iter()
    .map(|k| {
      let ms: Option<i64> = stmt.query_row([k], |r| r.get(0)).optional()?;
      Ok(ms.filter(|ms| *ms >= 0))
    })
    .collect()
}

/// A page of queue messages after `cursor` ("<due>:<id>").
pub fn pending(
  conn: &Connection,
  cursor: Option<&str>,
  limit: usize,
) -> Result<PendingPage> {
  let (due, id) = match cursor {
    None => (i64::MIN, String::new()),
    Some(c) => parse_cursor(c)?,
  };
  let mut stmt = conn.prepare_cached(STATEMENT_PENDING)?;
  let rows = stmt.query_map(params![due, id, limit as i64], |r| {
    Ok((
      r.get::<_, String>(1)?,
      PendingMessage {
        due_ms: r.get(0)?,
        leased: r.get::<_, i64>(2)? != 0,
        payload: r.get(3)?,
        backoff_schedule: r.get(4)?,
        // Deno writes this column as TEXT; read BLOBs too.
        keys_if_undelivered: match r.get_ref(5)? {
          rusqlite::types::ValueRef::Blob(b) => {
            String::from_utf8_lossy(b).into_owned()
          }
          other => other.as_str().unwrap_or("[]").to_string(),
        },
      },
    ))
  })?;
  let mut page = PendingPage::default();
  let mut last = None;
  for row in rows {
    let (id, message) = row?;
    last = Some(format!("{}:{id}", message.due_ms));
    page.messages.push(message);
  }
  if page.messages.len() == limit {
    page.cursor = last;
  }
  Ok(page)
}

fn parse_cursor(cursor: &str) -> Result<(i64, String)> {
  let bad = || Error::Malformed(format!("pending cursor: {cursor:?}"));
  let (due, id) = cursor.split_once(':').ok_or_else(bad)?;
  Ok((due.parse().map_err(|_| bad())?, id.to_string()))
}
