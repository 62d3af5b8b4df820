//! Statements sent together: one round trip for many.
//!
//! tokio-postgres sends a request when its future is first polled and
//! reads the answers in order, so polling a list of query futures in order
//! before awaiting any of them puts all of them on the wire at once (the
//! protocol's pipelining). A turn of the engine uses this to send what it
//! buffered (acknowledgements, enqueues, writes) with the statement that
//! needs an answer, and its commit with the last of them.
//!
//! Errors become [`crate::Error::Postgres`] with where the store lives,
//! never the password.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use deadpool_postgres::ClientWrapper;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// A statement parameter, owned so a statement can wait in a buffer.
pub type Param = Box<dyn ToSql + Sync + Send>;

/// One statement to send.
pub struct Stmt {
  /// The SQL; prepared once per connection and cached.
  pub sql: String,
  /// Its parameters.
  pub params: Vec<Param>,
  /// Sent with the simple-query protocol (no parameters, no rows): BEGIN,
  /// COMMIT and the like.
  pub simple: bool,
}

impl Stmt {
  /// A prepared statement with parameters.
  pub fn new(sql: &str, params: Vec<Param>) -> Stmt {
    Stmt {
      sql: sql.to_string(),
      params,
      simple: false,
    }
  }

  /// A parameterless command sent as plain text.
  pub fn simple(sql: &str) -> Stmt {
    Stmt {
      sql: sql.to_string(),
      params: Vec::new(),
      simple: true,
    }
  }
}

type RowsFuture<'a> = Pin<
  Box<dyn Future<Output = Result<Vec<Row>, tokio_postgres::Error>> + Send + 'a>,
>;

/// Sends every statement in one round trip (after preparing those the
/// connection has not seen) and returns each one's rows, in order. The
/// first failure is the error: in a transaction every later statement
/// fails with it.
pub async fn run(
  client: &ClientWrapper,
  stmts: &[Stmt],
) -> Result<Vec<Vec<Row>>, tokio_postgres::Error> {
  let mut prepared = Vec::with_capacity(stmts.len());
  for s in stmts {
    prepared.push(match s.simple {
      true => None,
      false => Some(client.prepare_cached(&s.sql).await?),
    });
  }
  let params: Vec<Vec<&(dyn ToSql + Sync)>> = stmts
    .iter()
    .map(|s| {
      s.params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
    })
    .collect();
  let mut futures: Vec<RowsFuture<'_>> = Vec::with_capacity(stmts.len());
  for ((s, p), params) in stmts.iter().zip(&prepared).zip(&params) {
    futures.push(match p {
      Some(statement) => Box::pin(client.query(statement, params)),
      None => Box::pin(async move {
        client.batch_execute(&s.sql).await.map(|()| Vec::new())
      }),
    });
  }
  in_order(futures).await.into_iter().collect()
}

/// Polls every future, always in list order (so requests go out in that
/// order), until all are done.
async fn in_order<T>(
  mut futures: Vec<Pin<Box<dyn Future<Output = T> + Send + '_>>>,
) -> Vec<T> {
  let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
  std::future::poll_fn(|cx| {
    let mut pending = false;
    for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
      if slot.is_none() {
        match f.as_mut().poll(cx) {
          Poll::Ready(v) => *slot = Some(v),
          Poll::Pending => pending = true,
        }
      }
    }
    if pending {
      Poll::Pending
    } else {
      Poll::Ready(())
    }
  })
  .await;
  out.into_iter().flatten().collect()
}

/// Whether the error means another transaction was in the way (a deadlock
/// Postgres broke, a serialization failure): the same work may simply be
/// tried again.
pub fn is_conflict(e: &tokio_postgres::Error) -> bool {
  matches!(
    e.code(),
    Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
      || *c == SqlState::T_R_SERIALIZATION_FAILURE
      || *c == SqlState::LOCK_NOT_AVAILABLE
  )
}

/// Whether the connection itself failed (closed, reset, timed out) rather
/// than the statement.
pub fn is_connection_lost(e: &tokio_postgres::Error) -> bool {
  if e.is_closed() {
    return true;
  }
  if let Some(code) = e.code() {
    // The server is going away: admin shutdown, crash recovery, a
    // terminated backend.
    return code.code().starts_with("57P") || code.code().starts_with("08");
  }
  e.as_db_error().is_none()
}

/// An error's text: the server's message (with its detail) or the
/// client's, with its cause.
pub fn describe(e: &tokio_postgres::Error) -> String {
  if let Some(db) = e.as_db_error() {
    let mut text = db.message().to_string();
    if let Some(detail) = db.detail() {
      text.push_str(": ");
      text.push_str(detail);
    }
    return text;
  }
  let mut text = e.to_string();
  let mut source = std::error::Error::source(e);
  while let Some(s) = source {
    let more = s.to_string();
    if !text.contains(&more) {
      text.push_str(": ");
      text.push_str(&more);
    }
    source = s.source();
  }
  text
}
