//! The Postgres side of kvq's own reads for moving data
//! (engine/inspect.rs): expiries from `kv.expires_at` and the messages in
//! the `queue` table (a leased row has a `deadline`).

use tokio_postgres::Row;

use super::pipeline::Param;
use super::pipeline::Stmt;
use super::schema::quote_ident;
use crate::engine::PendingMessage;
use crate::engine::PendingPage;
use crate::error::Error;
use crate::error::Result;

/// The statement reading the expiries of `keys`.
pub fn expiries_stmt(schema: &str, keys: &[Vec<u8>]) -> Stmt {
  let s = quote_ident(schema);
  let sql = format!("select k, expires_at from {s}.kv where k = any($1)");
  let params: Vec<Param> = vec![Box::new(keys.to_vec())];
  Stmt::new(&sql, params)
}

/// Each key's expiry from the rows of [`expiries_stmt`].
pub fn expiries(
  keys: &[Vec<u8>],
  rows: Option<&Vec<Row>>,
) -> Result<Vec<Option<i64>>> {
  let mut found = std::collections::HashMap::new();
  for row in rows.into_iter().flatten() {
    let k: Vec<u8> = row.try_get(0).map_err(read_error)?;
    let at: Option<i64> = row.try_get(1).map_err(read_error)?;
    found.insert(k, at);
  }
  Ok(
    keys
      .iter()
      .map(|k| found.get(k).copied().flatten())
      .collect(),
  )
}

/// The statement reading a page of messages after `cursor` (a row id).
pub fn pending_stmt(
  schema: &str,
  cursor: Option<&str>,
  limit: usize,
) -> Result<Stmt> {
  let s = quote_ident(schema);
  let after: i64 = match cursor {
    None => 0,
    Some(c) => c
      .parse()
      .map_err(|_| Error::Malformed(format!("pending cursor: {c:?}")))?,
  };
  let sql = format!(
    "select id, coalesce(deadline, ts), deadline is not null, data, \
     backoff_schedule::text, keys_if_undelivered::text from {s}.queue \
     where id > $1 order by id limit $2"
  );
  let params: Vec<Param> = vec![Box::new(after), Box::new(limit as i64)];
  Ok(Stmt::new(&sql, params))
}

/// The page from the rows of [`pending_stmt`].
pub fn pending(rows: Option<&Vec<Row>>, limit: usize) -> Result<PendingPage> {
  let mut page = PendingPage::default();
  let mut last = None;
  for row in rows.into_iter().flatten() {
    let id: i64 = row.try_get(0).map_err(read_error)?;
    last = Some(id.to_string());
    page.messages.push(PendingMessage {
      due_ms: row.try_get(1).map_err(read_error)?,
      leased: row.try_get(2).map_err(read_error)?,
      payload: row.try_get(3).map_err(read_error)?,
      backoff_schedule: row.try_get(4).map_err(read_error)?,
      keys_if_undelivered: row.try_get(5).map_err(read_error)?,
    });
  }
  if page.messages.len() == limit {
    page.cursor = last;
  }
  Ok(page)
}

fn read_error(e: tokio_postgres::Error) -> Error {
  Error::Postgres(format!("reading the store for a copy: {e}"))
}
