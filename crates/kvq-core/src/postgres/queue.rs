//! The queue half of the Postgres backend: one `queue` table, a message
//! ready while its `deadline` is null and leased until `deadline`
//! otherwise (see schema.rs).
//!
//! A lease is the pair (id, deadline): a renewal moves the deadline, so a
//! sweeper holding an older pair can no longer take the message back, and
//! an acknowledgement from a holder whose lease lapsed and was taken by
//! another changes nothing. Claims take many messages per statement with
//! `FOR UPDATE SKIP LOCKED`, so listeners in many processes never wait on
//! each other. Acknowledgements and releases are buffered by the turn
//! ([`QueueBuffer`]) and sent in bulk with its next statement or its
//! commit: one round trip for any number.
//!
//! Hand-off: a listener whose claim finds fewer messages than it asked
//! for registers its store as waiting (`queue_waiting`, schema.rs), in
//! the claim's statement. A transaction that enqueues a message ready at
//! once then inserts it leased to a waiting store (another one: a store's
//! own engine claims what it enqueued right after its commit, sooner than
//! a notification could come back) and notifies that store alone, with
//! the lease and (when small) the payload: the listener's process runs it
//! as soon as the notification arrives, without a claim's round trip
//! ([`Handed`]). The lease is an ordinary one: a handed
//! message its store cannot take (no listener waits by then) is released
//! at once, one whose store died lapses and is swept like any other, and
//! a registration is passed over once its LISTEN session is gone (the
//! advisory lock the session holds is free) or it went unrenewed for
//! [`WAITING_FOR`].
//!
//! Deadlines and due times are epoch milliseconds from the clocks of the
//! processes that write them: machines sharing a store need clocks within
//! a fraction of the lease (NTP does far better).

use denokv_proto::Enqueue;
use tokio_postgres::Row;

use super::pipeline::Param;
use super::pipeline::Stmt;
use super::schema::Sql;
use super::schema::HAND_OFF_MAX;
use crate::engine::Claimed;
use crate::engine::LeaseKey;
use crate::error::Error;
use crate::error::Result;
use crate::sqlite::DEFAULT_BACKOFF_SCHEDULE;

/// A message to insert.
pub struct NewMessage {
  /// Due time, epoch ms.
  pub ts: i64,
  /// The V8 payload.
  pub data: Vec<u8>,
  /// Retry intervals as JSON (Deno's default when none was given).
  pub schedule: String,
  /// Dead-letter keys as JSON (arrays of key bytes, as Deno stores them).
  pub keys: String,
}

impl NewMessage {
  /// The row for an enqueue.
  pub fn from_enqueue(enqueue: &Enqueue) -> Result<NewMessage> {
    let schedule = enqueue
      .backoff_schedule
      .as_deref()
      .unwrap_or(&DEFAULT_BACKOFF_SCHEDULE);
    Ok(NewMessage {
      ts: enqueue.deadline.timestamp_millis(),
      data: enqueue.payload.clone(),
      schedule: serde_json::to_string(schedule).map_err(json_error)?,
      keys: serde_json::to_string(&enqueue.keys_if_undelivered)
        .map_err(json_error)?,
    })
  }
}

fn json_error(e: serde_json::Error) -> Error {
  Error::Internal(e.to_string())
}

/// Queue work a turn has decided on but not yet sent.
#[derive(Default)]
pub struct QueueBuffer {
  messages: Vec<NewMessage>,
  acknowledged: (Vec<i64>, Vec<i64>),
  released: (Vec<i64>, Vec<i64>, Vec<i64>),
  /// Single statements decided by a failed attempt (requeue or delete).
  other: Vec<Stmt>,
}

impl QueueBuffer {
  /// A message enqueued by a write.
  pub fn enqueue(&mut self, message: NewMessage) {
    self.messages.push(message);
  }

  /// A handled message, to delete if the lease is still this one.
  pub fn acknowledge(&mut self, lease: &LeaseKey) -> Result<()> {
    self.acknowledged.0.push(lease_id(lease)?);
    self.acknowledged.1.push(lease.deadline);
    Ok(())
  }

  /// A message whose handler never ran: ready at `now`.
  pub fn release(&mut self, lease: &LeaseKey, now: i64) -> Result<()> {
    self.released.0.push(lease_id(lease)?);
    self.released.1.push(lease.deadline);
    self.released.2.push(now);
    Ok(())
  }

  /// The messages enqueued, as the arrays their insert takes, if any.
  pub fn take_messages(&mut self) -> Option<MessageRows> {
    if self.messages.is_empty() {
      return None;
    }
    let now = chrono::Utc::now().timestamp_millis();
    // Numbered from 1, as `with ordinality` numbers them; 0: none.
    let first = self
      .messages
      .iter()
      .position(|m| m.ts <= now)
      .map_or(0, |i| i as i64 + 1);
    let mut rows = MessageRows {
      ts: Vec::with_capacity(self.messages.len()),
      data: Vec::with_capacity(self.messages.len()),
      schedules: Vec::with_capacity(self.messages.len()),
      keys: Vec::with_capacity(self.messages.len()),
      first,
      now,
    };
    for m in self.messages.drain(..) {
      rows.ts.push(m.ts);
      rows.data.push(m.data);
      rows.schedules.push(m.schedule);
      rows.keys.push(m.keys);
    }
    Some(rows)
  }

  /// Another statement to send with the rest.
  pub fn push(&mut self, stmt: Stmt) {
    self.other.push(stmt);
  }

  /// Whether nothing waits.
  pub fn is_empty(&self) -> bool {
    self.messages.is_empty()
      && self.acknowledged.0.is_empty()
      && self.released.0.is_empty()
      && self.other.is_empty()
  }

  /// The statements that send everything buffered, emptying the buffer.
  /// The first enqueued message ready now goes to a waiting listener of
  /// another store than `me`, if any (see the module comment), in the
  /// statement that inserts it.
  pub fn drain(&mut self, sql: &Sql, me: &str) -> Vec<Stmt> {
    let mut out = std::mem::take(&mut self.other);
    if let Some(messages) = self.take_messages() {
      out.push(Stmt::new(&sql.enqueue_many, messages.params(me)));
    }
    if !self.acknowledged.0.is_empty() {
      let (ids, deadlines) = std::mem::take(&mut self.acknowledged);
      let params: Vec<Param> = vec![Box::new(ids), Box::new(deadlines)];
      out.push(Stmt::new(&sql.acknowledge, params));
    }
    if !self.released.0.is_empty() {
      let (ids, deadlines, ts) = std::mem::take(&mut self.released);
      // One due time for the batch: they were all released in this turn.
      let at = ts.iter().copied().min().unwrap_or(0);
      let params: Vec<Param> =
        vec![Box::new(ids), Box::new(deadlines), Box::new(at)];
      out.push(Stmt::new(&sql.release, params));
    }
    out
  }
}

/// Messages to insert, as arrays, and which one to hand over.
pub struct MessageRows {
  ts: Vec<i64>,
  data: Vec<Vec<u8>>,
  schedules: Vec<String>,
  keys: Vec<String>,
  /// The first ready one, numbered from 1 (0: none is ready).
  first: i64,
  /// When they were sent, epoch ms.
  now: i64,
}

impl MessageRows {
  /// The parameters of [`messages_ctes`], in its order.
  pub fn params(self, me: &str) -> Vec<Param> {
    vec![
      Box::new(self.ts),
      Box::new(self.data),
      Box::new(self.schedules),
      Box::new(self.keys),
      Box::new(self.first),
      Box::new(self.now),
      Box::new(me.to_string()),
    ]
  }
}

/// The common table expressions that insert messages (`ins`) and hand
/// the one numbered `first` over (`w`: the waiting store, `h`: the
/// hand-off, `f`: the room it takes), schema `s` (quoted). Their seven
/// parameters are numbered from `at`, in [`MessageRows::params`]'s order:
/// due times, payloads, schedules, dead-letter keys, `first`, now, and the
/// enqueuing store (never handed its own: its engine claims them at
/// commit). The waiting store is the freshest registration whose LISTEN
/// session still holds its lock (taking the lock fails).
pub fn messages_ctes(s: &str, at: usize) -> String {
  let p = |i: usize| format!("${}", at + i);
  let (ts, data, schedules, keys) = (p(0), p(1), p(2), p(3));
  let (first, now, me) = (p(4), p(5), p(6));
  format!(
    "w as (select store, lease_ms from {s}.queue_waiting \
       where {first}::bigint > 0 and free > 0 and until > {now}::bigint \
       and store <> {me}::text and not pg_try_advisory_xact_lock(alive) \
       order by until desc limit 1 for update skip locked), \
     ins as (insert into {s}.queue \
       (ts, deadline, attempts, data, backoff_schedule, keys_if_undelivered) \
       select m.ts, case when m.n = {first} then {now} + w.lease_ms end, \
         case when m.n = {first} and w.store is not null then 1 else 0 end, \
         m.data, m.schedule::jsonb, m.keys::jsonb \
       from unnest({ts}::bigint[], {data}::bytea[], {schedules}::text[], {keys}::text[]) \
       with ordinality as m(ts, data, schedule, keys, n) left join w on true order by m.n \
       returning id, ts, deadline, case when deadline is not null then data end as data), \
     h as (select ins.id, ins.deadline, ins.data, w.store from ins, w \
       where ins.deadline is not null), \
     f as (update {s}.queue_waiting x set free = x.free - 1 from h where x.store = h.store)"
  )
}

/// The hand-off's notification, one per row of `h` (see
/// [`messages_ctes`]): on the waiting store's channel, the lease and the
/// payload when it fits (8000 bytes, in hex).
pub fn hand_off_notify() -> String {
  format!(
    "pg_notify('kvq_h_' || h.store, h.id || ' ' || h.deadline || ' ' || \
       case when length(h.data) <= {HAND_OFF_MAX} then 'd' || encode(h.data, 'hex') \
       else 'f' end)"
  )
}

/// The row id in a lease.
pub fn lease_id(lease: &LeaseKey) -> Result<i64> {
  lease.id.parse().map_err(|_| {
    Error::Internal(format!("not a Postgres queue lease: {}", lease.id))
  })
}

/// How long a store's registration as waiting lasts unless a claim
/// renews it. An idle listener claims at least once a second (the
/// listening thread's backstop), so a live one stays registered; a store
/// that stopped claiming (its listeners busy or gone) gets no more.
pub const WAITING_FOR: i64 = 2500;

/// What a store believes its registration as waiting to be, so that a
/// claim writes it only when it changes: an idle listener's claims, and
/// the claims of a store that handles its own messages, then write
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
  /// Surely none.
  No,
  /// Not known: a turn failed, or a hand-off took from its room.
  Unknown,
  /// With room for `free` more, until `until` (epoch ms).
  Yes { free: i64, until: i64 },
}

impl Registered {
  /// What the claim statement is told: the room believed registered
  /// (-1: none, -2: not known), and whether to write it again anyway (it
  /// would go stale within half of [`WAITING_FOR`]).
  fn params(self, now: i64) -> (i64, bool) {
    match self {
      Registered::No => (-1, false),
      Registered::Unknown => (-2, false),
      Registered::Yes { free, until } => {
        (free, until.saturating_sub(now) < WAITING_FOR / 2)
      }
    }
  }

  /// The registration after a claim at `now` that found `got` of `max`,
  /// as the claim statement left it.
  pub fn after_claim(
    self,
    now: i64,
    got: usize,
    max: usize,
    alive: i64,
  ) -> Self {
    if got >= max || alive == 0 {
      return Registered::No;
    }
    let free = (max - got) as i64;
    let (believed, refresh) = self.params(now);
    if believed == free && !refresh {
      return self;
    }
    Registered::Yes {
      free,
      until: now.saturating_add(WAITING_FOR),
    }
  }
}

/// The claim statement's parameters: the claiming store (`me`), the
/// advisory lock its LISTEN session holds (`alive`, 0 while it has no
/// session: then it is not registered as waiting, since no hand-off
/// could reach it), and what it believes its registration to be.
pub fn claim_params(
  now: i64,
  deadline: i64,
  max: usize,
  me: &str,
  alive: i64,
  registered: Registered,
) -> Vec<Param> {
  let (believed, refresh) = registered.params(now);
  let mut params = claim_plain_params(now, deadline, max);
  params.extend::<[Param; 5]>([
    Box::new(me.to_string()),
    Box::new(now.saturating_add(WAITING_FOR)),
    Box::new(alive),
    Box::new(believed),
    Box::new(refresh),
  ]);
  params
}

/// The parameters of the claim without the registration: the first three
/// of [`claim_params`].
pub fn claim_plain_params(now: i64, deadline: i64, max: usize) -> Vec<Param> {
  vec![Box::new(now), Box::new(deadline), Box::new(max as i64)]
}

/// A message another process leased to this store and handed over in a
/// notification (see the module comment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handed {
  /// The row id.
  pub id: i64,
  /// The lease's end, epoch ms.
  pub deadline: i64,
  /// The payload, or `None` when it was too large to carry: read by its
  /// lease.
  pub data: Option<Vec<u8>>,
}

impl Handed {
  /// Reads a hand-off notification's payload: `<id> <deadline> d<hex>`,
  /// or `<id> <deadline> f` without the payload. `None` when malformed.
  pub fn parse(text: &str) -> Option<Handed> {
    let mut parts = text.splitn(3, ' ');
    let id = parts.next()?.parse().ok()?;
    let deadline = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let data = match rest.split_at_checked(1)? {
      ("d", hex) => Some(hex::decode(hex).ok()?),
      ("f", "") => None,
      _ => return None,
    };
    Some(Handed { id, deadline, data })
  }

  /// Its lease.
  pub fn lease(&self) -> LeaseKey {
    LeaseKey::anonymous(self.deadline, self.id.to_string())
  }
}

/// The statement that reads handed messages too large for their
/// notification.
pub fn claim_handed_stmt(sql: &Sql, handed: &[&Handed]) -> Stmt {
  let ids: Vec<i64> = handed.iter().map(|h| h.id).collect();
  let deadlines: Vec<i64> = handed.iter().map(|h| h.deadline).collect();
  Stmt::new(&sql.claim_handed, vec![Box::new(ids), Box::new(deadlines)])
}

/// Claimed rows (id, ts, data), oldest first, then in enqueue order.
pub fn claimed(rows: &[Row], deadline: i64) -> Result<Vec<Claimed>> {
  let mut out = Vec::with_capacity(rows.len());
  for row in rows {
    let id: i64 = row.try_get(0).map_err(column)?;
    let ts: i64 = row.try_get(1).map_err(column)?;
    let payload: Vec<u8> = row.try_get(2).map_err(column)?;
    out.push((ts, id, payload));
  }
  out.sort_by_key(|(ts, id, _)| (*ts, *id));
  Ok(
    out
      .into_iter()
      .map(|(_, id, payload)| Claimed {
        lease: LeaseKey::anonymous(deadline, id.to_string()),
        payload,
        named: None,
      })
      .collect(),
  )
}

/// The renew statement's parameters.
pub fn renew_params(leases: &[LeaseKey], deadline: i64) -> Result<Vec<Param>> {
  let ids = leases.iter().map(lease_id).collect::<Result<Vec<_>>>()?;
  let old: Vec<i64> = leases.iter().map(|l| l.deadline).collect();
  Ok(vec![Box::new(deadline), Box::new(ids), Box::new(old)])
}

/// Per lease, whether the renewal's returned ids hold it.
pub fn renewed(leases: &[LeaseKey], rows: &[Row]) -> Result<Vec<bool>> {
  let mut ids = std::collections::HashSet::with_capacity(rows.len());
  for row in rows {
    ids.insert(row.try_get::<_, i64>(0).map_err(column)?);
  }
  leases
    .iter()
    .map(|l| Ok(ids.contains(&lease_id(l)?)))
    .collect()
}

/// The lapsed query's rows (id, deadline) as leases.
pub fn leases(rows: &[Row]) -> Result<Vec<LeaseKey>> {
  rows
    .iter()
    .map(|r| {
      Ok(LeaseKey::anonymous(
        r.try_get(1).map_err(column)?,
        r.try_get::<_, i64>(0).map_err(column)?.to_string(),
      ))
    })
    .collect()
}

/// A leased message as a failed attempt finds it.
pub struct Running {
  /// The V8 payload.
  pub data: Vec<u8>,
  /// The retry intervals left.
  pub schedule: Vec<u64>,
  /// Where it goes when none is left.
  pub keys: Vec<Vec<u8>>,
}

/// The locked row of a failed attempt (data, schedule, keys), if it was
/// still this lease's and no one else held it.
pub fn running(rows: &[Row]) -> Result<Option<Running>> {
  let Some(row) = rows.first() else {
    return Ok(None);
  };
  let data: Vec<u8> = row.try_get(0).map_err(column)?;
  let schedule: String = row.try_get(1).map_err(column)?;
  let keys: String = row.try_get(2).map_err(column)?;
  let schedule = serde_json::from_str::<Option<Vec<u64>>>(&schedule)
    .map_err(|e| Error::Internal(format!("backoff_schedule: {e}")))?
    .unwrap_or_default();
  let keys = serde_json::from_str(&keys)
    .map_err(|e| Error::Internal(format!("keys_if_undelivered: {e}")))?;
  Ok(Some(Running {
    data,
    schedule,
    keys,
  }))
}

/// The statement that puts a failed message back, due after its next
/// interval, with the rest of its schedule; and that due time.
pub fn requeue(
  sql: &Sql,
  id: i64,
  now: i64,
  schedule: &[u64],
) -> Result<Option<(Stmt, i64)>> {
  let Some((first, rest)) = schedule.split_first() else {
    return Ok(None);
  };
  let ts = now.saturating_add(*first as i64);
  let params: Vec<Param> = vec![
    Box::new(id),
    Box::new(ts),
    Box::new(serde_json::to_string(rest).map_err(json_error)?),
  ];
  Ok(Some((Stmt::new(&sql.requeue, params), ts)))
}

fn column(e: tokio_postgres::Error) -> Error {
  Error::Postgres(format!("reading a queue row: {e}"))
}

#[cfg(test)]
mod tests {
  use super::Handed;

  #[test]
  fn a_registration_is_written_only_when_it_changes() {
    use super::Registered;
    use super::WAITING_FOR;
    let yes = |free, until| Registered::Yes { free, until };
    // Found nothing of 4: room for 4, written.
    let r = Registered::No.after_claim(1000, 0, 4, 7);
    assert_eq!(r, yes(4, 1000 + WAITING_FOR));
    // Again a moment later: the same, nothing written.
    assert_eq!(r.after_claim(1100, 0, 4, 7), r);
    assert_eq!(r.params(1100), (4, false));
    // Half its time gone: written again.
    let late = 1000 + WAITING_FOR / 2 + 1;
    assert_eq!(r.params(late), (4, true));
    assert_eq!(r.after_claim(late, 0, 4, 7), yes(4, late + WAITING_FOR));
    // Less room: written.
    assert_eq!(r.after_claim(1100, 1, 4, 7), yes(3, 1100 + WAITING_FOR));
    // Found all it asked for, or no LISTEN session: none.
    assert_eq!(r.after_claim(1100, 4, 4, 7), Registered::No);
    assert_eq!(r.after_claim(1100, 0, 4, 0), Registered::No);
    // Not known: written whatever it finds.
    assert_eq!(Registered::Unknown.params(0), (-2, false));
    assert_eq!(Registered::No.params(0), (-1, false));
  }

  #[test]
  fn hand_off_notifications_are_read_or_refused() {
    assert_eq!(
      Handed::parse("12 1700000000000 d00ff"),
      Some(Handed {
        id: 12,
        deadline: 1_700_000_000_000,
        data: Some(vec![0, 255]),
      })
    );
    assert_eq!(
      Handed::parse("7 5 f"),
      Some(Handed {
        id: 7,
        deadline: 5,
        data: None
      })
    );
    assert_eq!(Handed::parse("7 5 d").map(|h| h.data), Some(Some(vec![])));
    for bad in [
      "", "7", "7 5", "x 5 f", "7 y f", "7 5 q", "7 5 dzz", "7 5 fx",
    ] {
      assert_eq!(Handed::parse(bad), None, "{bad:?}");
    }
  }
}
