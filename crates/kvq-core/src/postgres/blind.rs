//! Blind writes (postgres/mod.rs, `write_blind`) as ONE statement, which
//! is its own transaction: the counter's move, the rows deleted and
//! written (their versions offsets from the moved counter), the messages
//! and the hand-off of the first ready one, the earliest ready time and
//! the wake-up of other processes.
//!
//! Sent as `begin`, five statements and `commit`, the same work took seven
//! exchanges with the server, each answered on its own: a third of the
//! time from one process's enqueue to another's handler went there
//! (docs/postgres.md, "Blind writes in one round trip"). As one statement
//! it is one exchange, and as atomic.
//!
//! The counter's row is locked first, as every writing transaction does
//! (a kv row locked before it could deadlock with a write that holds the
//! counter and wants that row): the main query reads `v` first, and the
//! deletes and upserts, which no query reads and so run after it, use
//! its version. The hand-off's notification goes before the general one,
//! so the listener it is for has the message before anything else wakes
//! it.

use super::kv::KvRows;
use super::pipeline::Param;
use super::pipeline::Stmt;
use super::queue::hand_off_notify;
use super::queue::messages_ctes;
use super::queue::MessageRows;
use super::schema::Sql;
use super::schema::KV_UPSERT;

/// The statement, and where its one row's answers are: column 0 the
/// counter after the move, column 1 the earliest ready time.
pub fn statement(
  sql: &Sql,
  total: i64,
  rows: KvRows,
  messages: Option<MessageRows>,
  me: &str,
  wake: Option<&str>,
) -> Stmt {
  let s = &sql.schema;
  let mut params: Vec<Param> = vec![Box::new(total)];
  let next = |params: &mut Vec<Param>, p: Param| {
    params.push(p);
    format!("${}", params.len())
  };
  let mut ctes = vec![format!(
    "v as (update {s}.data_version set version = version + $1 where k = 0 \
     returning version)"
  )];
  if !rows.deleted.is_empty() {
    let keys = next(&mut params, Box::new(rows.deleted));
    ctes.push(format!(
      "del as (delete from {s}.kv where k = any({keys}) \
       and (select version from v) is not null)"
    ));
  }
  if !rows.keys.is_empty() {
    let k = next(&mut params, Box::new(rows.keys));
    let v = next(&mut params, Box::new(rows.values));
    let e = next(&mut params, Box::new(rows.encodings));
    let o = next(&mut params, Box::new(rows.versions));
    let x = next(&mut params, Box::new(rows.expiries));
    ctes.push(format!(
      "up as (insert into {s}.kv (k, v, v_encoding, version, expires_at) \
       select r.k, r.v, r.e, (select version from v) + r.o, r.x \
       from unnest({k}::bytea[], {v}::bytea[], {e}::smallint[], {o}::bigint[], \
                   {x}::bigint[]) as r(k, v, e, o, x) \
       {KV_UPSERT})"
    ));
  }
  let mut columns = vec!["(select version from v)".to_string()];
  let ready = format!("(select min(ts) from {s}.queue where deadline is null)");
  match messages {
    Some(messages) => {
      let at = params.len() + 1;
      params.extend(messages.params(me));
      ctes.push(messages_ctes(s, at));
      // The statement's snapshot does not see its own inserts: they
      // count from `ins`.
      columns.push(format!(
        "least({ready}, (select min(ts) from ins where deadline is null))"
      ));
      columns.push(format!(
        "(select string_agg({}::text, '') from h)",
        hand_off_notify()
      ));
    }
    None => columns.push(ready),
  }
  if let Some(channel) = wake {
    let c = next(&mut params, Box::new(channel.to_string()));
    let m = next(&mut params, Box::new(me.to_string()));
    columns.push(format!("pg_notify({c}, {m})::text"));
  }
  let text = format!("with {} select {}", ctes.join(", "), columns.join(", "));
  Stmt::new(&text, params)
}

#[cfg(test)]
mod tests {
  use super::super::kv::KvRows;
  use super::super::queue::NewMessage;
  use super::super::queue::QueueBuffer;
  use super::super::schema::Sql;

  /// Every parameter the text names is one that is sent, for each mix of
  /// parts, and the hand-off's notification comes before the general one.
  #[test]
  fn every_mix_of_parts_numbers_its_parameters() {
    let sql = Sql::new("s");
    for mix in 0..16 {
      let mut rows = KvRows::default();
      if mix & 1 != 0 {
        rows.deleted.push(vec![1]);
      }
      if mix & 2 != 0 {
        rows.keys.push(vec![2]);
        rows.values.push(vec![3]);
        rows.encodings.push(1);
        rows.versions.push(0);
        rows.expiries.push(None);
      }
      let mut queue = QueueBuffer::default();
      if mix & 4 != 0 {
        queue.enqueue(NewMessage {
          ts: 0,
          data: vec![4],
          schedule: "[]".into(),
          keys: "[]".into(),
        });
      }
      let wake = (mix & 8 != 0).then_some("kvq:s");
      let messages = queue.take_messages();
      let stmt = super::statement(&sql, 1, rows, messages, "me", wake);
      let named: Vec<usize> = stmt
        .sql
        .split('$')
        .skip(1)
        .filter_map(|p| {
          let digits: String =
            p.chars().take_while(char::is_ascii_digit).collect();
          digits.parse().ok()
        })
        .collect();
      let most = named.iter().copied().max().unwrap_or(0);
      assert_eq!(most, stmt.params.len(), "mix {mix}: {}", stmt.sql);
      for i in 1..=most {
        assert!(named.contains(&i), "mix {mix}: ${i} unused: {}", stmt.sql);
      }
      if let (Some(h), Some(g)) =
        (stmt.sql.find("'kvq_h_'"), stmt.sql.rfind("pg_notify($"))
      {
        assert!(h < g, "mix {mix}: the hand-off notifies first");
      }
    }
  }
}
