//! Named queues on Postgres (engine/named.rs): their statements, the work
//! a turn buffers for them ([`NamedBuffer`]), and their rows as the engine
//! sees them. The tables (`named`, `named_dead`, `named_dedup`,
//! `named_counters`) are described in schema.rs; the management API is
//! named_admin.rs.
//!
//! A message is one row of `named` from its enqueue to its end, moving
//! between states by updates (0 ready, 1 waiting, 2 running); SQLite's
//! layout (sqlite/named.rs), so both backends answer the same way. Claims
//! take many due messages of one queue per statement with `FOR UPDATE
//! SKIP LOCKED`, so processes on many hosts claim side by side without
//! waiting on each other and never take one message twice. A lease is
//! (queue, id, due): renewing moves `due`, so a holder whose lease lapsed
//! and was taken back changes nothing. What needs no answer
//! (acknowledgements, releases, settled attempts, the rows of an enqueue)
//! is buffered and goes out with the turn's next statement or its commit.
//!
//! **Ordering groups across processes.** Only a group's head (its lowest
//! `seq`) is ever ready or running; when it leaves (acknowledged, dead,
//! cancelled) the same transaction makes the next waiting one ready, and
//! an enqueue puts its message at `max(seq) + 1`, ready only when the
//! group was empty. Two transactions that both read a group under READ
//! COMMITTED would each miss the other's uncommitted row: two enqueues
//! would take the same `seq` (or both make a head), and an enqueue racing
//! the head's acknowledgement would leave its message waiting behind a
//! head that is gone, forever. So every transaction that reads a group's
//! tail or moves its head first takes a transaction-scoped advisory lock
//! on (schema, queue, group), `pg_advisory_xact_lock` of a 64-bit hash
//! (`hashtextextended`), held until commit. The statement that reads the
//! group comes after the lock's in the pipeline, so its snapshot (a new
//! one per statement) holds whatever the previous holder committed.
//!
//! Why not an upsert on a groups table: its row would need deleting when
//! the group empties (numbering starts again at 1, as on SQLite) and it
//! adds a write per message; an advisory lock costs nothing on disk, and a
//! hash collision only makes two groups wait on each other, never breaks
//! either. Claims need no group lock: a group never has more than one
//! ready or running row. Neither does acknowledging a message without a
//! group: the backend remembers the groups of the messages it holds
//! ([`HeldGroups`]), so the common ungrouped drain takes no lock at all.
//!
//! Advisory locks live in Postgres's shared lock table, sized by
//! `max_locks_per_transaction` (64 per connection by default): a turn
//! touching thousands of groups could exhaust it. A transaction therefore
//! takes each group's lock with a shared lock on its queue, and one that
//! would touch more than [`GROUP_LOCKS_MAX`] groups of a queue (a bulk
//! enqueue), or every group (purge, redrive), takes the queue's lock
//! exclusively instead: one lock, and the same exclusion. Within a round
//! trip the queue locks come first, then the group locks, each in hash
//! order, so such transactions cannot deadlock on them. Two turns whose
//! round trips take them in crossing orders can; Postgres breaks that, the
//! error is a conflict ("busy") and the engine runs the turn again, as
//! for any other deadlock (postgres/mod.rs).
//!
//! **Counters.** `named_counters` is added to by the statement that does
//! the counted work (a CTE of it), so it counts exactly what happened (an
//! acknowledgement of a lease that was no longer ours counts nothing) with
//! no answer sent back. One row per queue and counter would be a hot row:
//! every process draining a queue would wait, at each commit, for the
//! previous committer's row lock (held through its WAL flush). Each turn
//! adds to one of [`STRIPES`] rows per queue and counter, picked at random
//! per turn, and a read sums them: two processes wait on each other only
//! when they picked the same stripe.
//!
//! **Wake-ups.** A turn that adds or readies a message sends the store's
//! NOTIFY at commit (postgres/listen.rs), as the anonymous queue's enqueue
//! does; a head leaving its group does so from SQL, only when it did make
//! the next one ready (an acknowledgement without a group notifies no
//! one, as on the anonymous queue).

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;

use tokio_postgres::Row;

use super::pipeline::Param;
use super::pipeline::Stmt;
use super::schema::quote_ident;
use crate::engine::Claimed;
use crate::engine::LeaseKey;
use crate::engine::NamedEnqueue;
use crate::engine::NamedMeta;
use crate::error::Error;
use crate::error::Result;

/// How many rows a queue's counter is spread over (see the module
/// comment).
pub const STRIPES: i16 = 16;
/// The most group locks a round trip takes in one queue; past it, the
/// queue's lock is taken exclusively instead (see the module comment).
/// One claim's worth of messages (engine::MAX_DEQUEUE), each in a group of
/// its own, still takes group locks.
pub const GROUP_LOCKS_MAX: usize = 1024;

/// Lapsed leases returned per sweep, as for the anonymous queue.
const LAPSED_PAGE: i64 = 256;
/// Dedup rows past their window deleted per sweep.
const DEDUP_EXPIRE_PAGE: i64 = 1000;

/// Every statement on named queues' tables, with the schema written in.
pub struct NamedSql {
  /// Locks queues: $1 queues, $2 whether exclusively (else shared).
  pub lock_queues: String,
  /// Locks groups: $1 queues and $2 groups by name, $3 queues and $4 ids
  /// of messages whose group to lock.
  pub lock_groups: String,
  /// Adds messages at the end of their groups ([`NewRows`]).
  pub insert: String,
  /// Claims a dedup id's window: a row back when the message is new.
  pub dedup_put: String,
  /// The message id holding a dedup id's window, and its commit's version.
  pub dedup_get: String,
  /// The message id holding a dedup id's window at $3, if it still lasts.
  pub dedup_of: String,
  pub claim: String,
  pub earliest: String,
  pub renew: String,
  pub acknowledge: String,
  pub release: String,
  pub retry: String,
  pub bury: String,
  pub lapsed: String,
  pub dedup_expire: String,
  /// For named_admin.rs: a message leaving a ready or waiting state by
  /// id ($1 queue, $2 id), its group moved on.
  pub cancel: String,
  /// The schema, quoted.
  pub s: String,
}

impl NamedSql {
  /// The statements for tables in `schema`.
  pub fn new(schema: &str) -> NamedSql {
    let s = quote_ident(schema);
    let keys = Keys::new(schema);
    let lock_queues = format!(
      "select count(case when x then pg_advisory_xact_lock(h)::text \
                         else pg_advisory_xact_lock_shared(h)::text end) \
       from (select {} as h, u.x from unnest($1::text[], $2::boolean[]) as u(q, x) \
             order by h) ordered",
      keys.queue("u.q"),
    );
    let lock_groups = format!(
      "select count(pg_advisory_xact_lock(h)) from ( \
         select h from ( \
           select {} as h from unnest($1::text[], $2::text[]) as l(q, g) \
           union \
           select {} from {s}.named n \
           join unnest($3::text[], $4::text[]) as m(q, id) \
             on n.queue = m.q and n.id = m.id \
           where n.grp is not null \
         ) k order by h \
       ) ordered",
      keys.group("l.q", "l.g"),
      keys.group("n.queue", "n.grp"),
    );
    // Sequence numbers: after the group's last (read once the group's lock
    // is held), counting this batch's own in order.
    let insert = format!(
      "with m as ( \
         select u.*, row_number() over (partition by u.q, u.g order by u.n) as k \
         from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], \
                     $5::integer[], $6::bigint[], $7::bytea[]) \
           with ordinality as u(q, id, due, g, max_attempts, enqueued_at, data, n) \
       ), added as ( \
         insert into {s}.named (queue, id, state, due, grp, seq, attempts, \
                                max_attempts, enqueued_at, data) \
         select m.q, m.id, \
           case when m.g is null or (t.tail is null and m.k = 1) then 0 else 1 end, \
           m.due, m.g, \
           case when m.g is not null then coalesce(t.tail, 0) + m.k end, \
           0, m.max_attempts, m.enqueued_at, m.data \
         from m left join lateral ( \
           select max(x.seq) as tail from {s}.named x \
           where x.queue = m.q and x.grp = m.g \
         ) t on true \
         order by m.n \
         returning queue \
       ) {}",
      count_into(&s, "added", "enqueued", 8)
    );
    // The version: the counter's as this transaction left it (it holds
    // its lock), plus $6 (see `dedup_stmts`).
    let dedup_put = format!(
      "insert into {s}.named_dedup as d (queue, dedup_id, id, version, until) \
       values ($1::text, $2::text, $3::text, \
               (select version from {s}.data_version where k = 0) + $6::bigint, \
               $4::bigint) \
       on conflict (queue, dedup_id) do update \
         set id = excluded.id, version = excluded.version, until = excluded.until \
         where d.until <= $5::bigint \
       returning d.id"
    );
    let dedup_get = format!(
      "select id, version from {s}.named_dedup \
       where queue = $1::text and dedup_id = $2::text"
    );
    let dedup_of = format!(
      "select id from {s}.named_dedup \
       where queue = $1::text and dedup_id = $2::text and until > $3::bigint"
    );
    let claim = format!(
      "update {s}.named n set state = 2, due = $4::bigint \
       from (select ctid as tid, due from {s}.named \
             where queue = $1::text and state = 0 and due <= $2::bigint \
             order by due, id limit $3::bigint for update skip locked) c \
       where n.ctid = c.tid \
       returning c.due, n.id, n.data, n.attempts, n.enqueued_at, n.grp, n.seq"
    );
    // Not `min(due)`: the planner, misled by a table it last analysed
    // near empty, aggregates over every ready row rather than reading the
    // first one, a scan as long as the backlog in every turn.
    let earliest = format!(
      "select due from {s}.named where queue = $1::text and state = 0 \
       order by due limit 1"
    );
    let renew = format!(
      "update {s}.named n set due = $1::bigint \
       from unnest($2::text[], $3::text[], $4::bigint[]) as l(q, id, due) \
       where n.queue = l.q and n.id = l.id and n.state = 2 and n.due = l.due \
       returning n.queue, n.id"
    );
    let acknowledge = format!(
      "with gone as ( \
         delete from {s}.named n \
         using unnest($1::text[], $2::text[], $3::bigint[]) as l(q, id, due) \
         where n.queue = l.q and n.id = l.id and n.state = 2 and n.due = l.due \
         returning n.queue, n.grp, n.seq, n.state \
       ), {}",
      leave_tail(&s, 4, Some("acked"))
    );
    // One due time for the batch, as for the anonymous queue.
    let release = format!(
      "update {s}.named n set state = 0, due = $4::bigint \
       from unnest($1::text[], $2::text[], $3::bigint[]) as l(q, id, due) \
       where n.queue = l.q and n.id = l.id and n.state = 2 and n.due = l.due"
    );
    // $6: a listener's verdict (always); otherwise a lapsed lease, retried
    // only while attempts are left.
    let retry = format!(
      "with retried as ( \
         update {s}.named set state = 0, due = $4::bigint, \
           attempts = attempts + 1, last_error = $5::text \
         where queue = $1::text and id = $2::text and state = 2 and due = $3::bigint \
           and ($6::boolean or attempts + 1 < max_attempts) \
         returning queue \
       ) {}",
      count_into(&s, "retried", "retried", 7)
    );
    // $4: a listener's verdict (always); otherwise a lapsed lease, dead
    // only when no attempt is left. As on SQLite, a dead letter of the
    // same id replaces an older one.
    let bury = format!(
      "with gone as ( \
         delete from {s}.named \
         where queue = $1::text and id = $2::text and state = 2 and due = $3::bigint \
           and ($4::boolean or attempts + 1 >= max_attempts) \
         returning * \
       ), buried as ( \
         insert into {s}.named_dead (queue, id, grp, seq, attempts, max_attempts, \
                                     enqueued_at, last_error, failed_at, data) \
         select queue, id, grp, seq, attempts + 1, max_attempts, enqueued_at, \
                $5::text, $6::bigint, data from gone \
         on conflict (queue, id) do update set grp = excluded.grp, \
           seq = excluded.seq, attempts = excluded.attempts, \
           max_attempts = excluded.max_attempts, enqueued_at = excluded.enqueued_at, \
           last_error = excluded.last_error, failed_at = excluded.failed_at, \
           data = excluded.data \
       ), {}",
      leave_tail(&s, 7, Some("dead"))
    );
    let lapsed = format!(
      "select queue, id, due from {s}.named \
       where state = 2 and due <= $1::bigint order by due limit {LAPSED_PAGE}"
    );
    // SKIP LOCKED: sweeps of several processes never wait on each other.
    let dedup_expire = format!(
      "delete from {s}.named_dedup d using ( \
         select queue, dedup_id from {s}.named_dedup where until <= $1::bigint \
         limit {DEDUP_EXPIRE_PAGE} for update skip locked \
       ) x where d.queue = x.queue and d.dedup_id = x.dedup_id"
    );
    let cancel = format!(
      "with gone as ( \
         delete from {s}.named where queue = $1::text and id = $2::text \
           and state in (0, 1) \
         returning queue, grp, seq, state \
       ), {}",
      leave_tail(&s, 3, None)
    );
    NamedSql {
      lock_queues,
      lock_groups,
      insert,
      dedup_put,
      dedup_get,
      dedup_of,
      claim,
      earliest,
      renew,
      acknowledge,
      release,
      retry,
      bury,
      lapsed,
      dedup_expire,
      cancel,
      s,
    }
  }
}

/// The advisory-lock keys of queues and groups, as SQL expressions.
struct Keys {
  /// A prefix naming the store, as an SQL string's text: locks of stores
  /// in other schemas of the database never meet ours.
  tag: String,
}

impl Keys {
  fn new(schema: &str) -> Keys {
    Keys {
      tag: schema.replace('\'', "''"),
    }
  }

  /// The key of queue `q`'s lock.
  fn queue(&self, q: &str) -> String {
    format!(
      "hashtextextended('kvq named queue {} ' || {q}, 0)",
      self.tag
    )
  }

  /// The key of group `g` of queue `q`.
  fn group(&self, q: &str, g: &str) -> String {
    format!(
      "hashtextextended('kvq named group {} ' || {q}, hashtext({g}))",
      self.tag
    )
  }
}

/// The statement adding the rows of CTE `source` (one per counted event,
/// with a `queue` column) to counter `name`, in the stripe of parameter
/// `$stripe`.
fn count_into(s: &str, source: &str, name: &str, stripe: usize) -> String {
  format!(
    "insert into {s}.named_counters as c (queue, name, stripe, value) \
     select queue, '{name}', ${stripe}::smallint, count(*) from {source} \
     group by queue order by queue \
     on conflict (queue, name, stripe) do update set value = c.value + excluded.value"
  )
}

/// What follows a `gone` CTE (queue, grp, seq, state of the rows that
/// left): the next waiting message of each group whose head left becomes ready,
/// due no earlier than now (the group's lock is held; as on SQLite, it
/// does not jump ahead of what other groups made ready meanwhile); the
/// store is notified when one did; with `counter` the rows are counted.
/// Parameters from `$first`: channel, payload, now, stripe. A SELECT that
/// answers how many left and whether it notified.
fn leave_tail(s: &str, first: usize, counter: Option<&str>) -> String {
  let (channel, payload, now, stripe) =
    (first, first + 1, first + 2, first + 3);
  let counted = match counter {
    Some(name) => {
      format!(", counted as ({})", count_into(s, "gone", name, stripe))
    }
    None => String::new(),
  };
  format!(
    "heads as ( \
       select queue, grp, seq from gone where grp is not null and state <> 1 \
     ), successor as ( \
       select w.tid from heads h cross join lateral ( \
         select x.ctid as tid from {s}.named x \
         where x.queue = h.queue and x.grp = h.grp and x.seq > h.seq \
           and x.state = 1 \
         order by x.seq limit 1 \
       ) w \
     ), promoted as ( \
       update {s}.named n set state = 0, due = greatest(n.due, ${now}::bigint) \
       from successor where n.ctid = successor.tid \
       returning n.queue \
     ), woke as ( \
       select pg_notify(${channel}::text, ${payload}::text) \
       from (select 1 from promoted limit 1) p \
     ){counted} \
     select (select count(*) from gone), (select count(*) from woke)"
  )
}

/// What the buffered statements need besides their rows: where to
/// notify, and this turn's counter stripe.
pub struct Ctx {
  /// The store's LISTEN channel.
  pub channel: String,
  /// The payload of this store's notifications.
  pub me: String,
  /// This turn's stripe of `named_counters`.
  pub stripe: i16,
}

/// Leases as three arrays, for `unnest`.
#[derive(Default)]
struct Leases {
  queues: Vec<String>,
  ids: Vec<String>,
  deadlines: Vec<i64>,
}

impl Leases {
  fn push(&mut self, lease: &LeaseKey) {
    self.queues.push(queue_of(lease).to_string());
    self.ids.push(lease.id.clone());
    self.deadlines.push(lease.deadline);
  }

  fn is_empty(&self) -> bool {
    self.ids.is_empty()
  }

  fn params(self) -> Vec<Param> {
    vec![
      Box::new(self.queues),
      Box::new(self.ids),
      Box::new(self.deadlines),
    ]
  }
}

/// Named-queue work a turn has decided on but not yet sent. It goes out
/// as: the queue locks, the group locks (see the module comment), then the
/// statements in the order they were decided, then the acknowledgements
/// and the releases, each batch as one statement.
#[derive(Default)]
pub struct NamedBuffer {
  /// Queues to lock exclusively: all their groups at once.
  lock_queues: BTreeSet<String>,
  /// Groups (queue, group) to lock.
  lock_groups: BTreeSet<(String, String)>,
  /// Messages (queue, id) whose group (if any) to lock.
  lock_ids: BTreeSet<(String, String)>,
  other: Vec<Stmt>,
  acked: Leases,
  /// When the last acknowledgement was decided: a group's next message is
  /// due no earlier.
  acked_at: i64,
  released: Leases,
  released_at: Vec<i64>,
}

impl NamedBuffer {
  /// Whether nothing waits.
  pub fn is_empty(&self) -> bool {
    self.lock_queues.is_empty()
      && self.lock_groups.is_empty()
      && self.lock_ids.is_empty()
      && self.other.is_empty()
      && self.acked.is_empty()
      && self.released.is_empty()
  }

  /// Every group of `queue` is locked before anything else goes.
  pub fn lock_queue(&mut self, queue: &str) {
    self.lock_queues.insert(queue.to_string());
  }

  /// Group `group` of `queue` is locked before anything else goes.
  pub fn lock_group(&mut self, queue: &str, group: &str) {
    self
      .lock_groups
      .insert((queue.to_string(), group.to_string()));
  }

  /// The group of a message (if it has one; the database knows) is locked
  /// before anything else goes.
  pub fn lock_group_of(&mut self, queue: &str, id: &str) {
    self.lock_ids.insert((queue.to_string(), id.to_string()));
  }

  /// Another statement, sent after the locks in the order pushed.
  pub fn push(&mut self, stmt: Stmt) {
    self.other.push(stmt);
  }

  /// A handled message at `now`: deleted if the lease still holds, its
  /// group moved on (the caller locks the group).
  pub fn acknowledge(&mut self, lease: &LeaseKey, now: i64) {
    self.acked.push(lease);
    self.acked_at = self.acked_at.max(now);
  }

  /// A message whose handler never ran: ready at `now`.
  pub fn release(&mut self, lease: &LeaseKey, now: i64) {
    self.released.push(lease);
    self.released_at.push(now);
  }

  /// The statements that send everything buffered, emptying the buffer.
  pub fn drain(&mut self, sql: &NamedSql, ctx: &Ctx) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(self.other.len() + 4);
    out.extend(self.drain_locks(sql));
    out.append(&mut self.other);
    if !self.acked.is_empty() {
      let mut params = std::mem::take(&mut self.acked).params();
      let now = std::mem::take(&mut self.acked_at);
      params.extend(leave_params(ctx, now));
      out.push(Stmt::new(&sql.acknowledge, params));
    }
    if !self.released.is_empty() {
      let at = self.released_at.drain(..).min().unwrap_or(0);
      let mut params = std::mem::take(&mut self.released).params();
      params.push(Box::new(at));
      out.push(Stmt::new(&sql.release, params));
    }
    out
  }

  /// The lock statements: a queue with more than [`GROUP_LOCKS_MAX`]
  /// groups to lock is locked exclusively instead; every other queue
  /// with a group to lock, shared.
  fn drain_locks(&mut self, sql: &NamedSql) -> Vec<Stmt> {
    let mut exclusive = std::mem::take(&mut self.lock_queues);
    let groups = std::mem::take(&mut self.lock_groups);
    let ids = std::mem::take(&mut self.lock_ids);
    let mut per_queue: HashMap<&str, usize> = HashMap::new();
    for (q, _) in groups.iter().chain(ids.iter()) {
      *per_queue.entry(q.as_str()).or_default() += 1;
    }
    for (q, n) in per_queue {
      if n > GROUP_LOCKS_MAX {
        exclusive.insert(q.to_string());
      }
    }
    let groups: Vec<_> = groups
      .into_iter()
      .filter(|(q, _)| !exclusive.contains(q))
      .collect();
    let ids: Vec<_> = ids
      .into_iter()
      .filter(|(q, _)| !exclusive.contains(q))
      .collect();
    let shared: BTreeSet<&String> = groups
      .iter()
      .chain(ids.iter())
      .map(|(q, _)| q)
      .filter(|q| !exclusive.contains(*q))
      .collect();
    let mut out = Vec::with_capacity(2);
    if !exclusive.is_empty() || !shared.is_empty() {
      let mut queues: Vec<String> = Vec::new();
      let mut modes: Vec<bool> = Vec::new();
      for q in &exclusive {
        queues.push(q.clone());
        modes.push(true);
      }
      for q in shared {
        queues.push(q.clone());
        modes.push(false);
      }
      let params: Vec<Param> = vec![Box::new(queues), Box::new(modes)];
      out.push(Stmt::new(&sql.lock_queues, params));
    }
    if !groups.is_empty() || !ids.is_empty() {
      let (queues, groups): (Vec<String>, Vec<String>) =
        groups.into_iter().unzip();
      let (id_queues, ids): (Vec<String>, Vec<String>) =
        ids.into_iter().unzip();
      let params: Vec<Param> = vec![
        Box::new(queues),
        Box::new(groups),
        Box::new(id_queues),
        Box::new(ids),
      ];
      out.push(Stmt::new(&sql.lock_groups, params));
    }
    out
  }
}

/// The groups of the grouped messages this store holds under a lease, as
/// of its last commit, by (queue, id): what lets an acknowledgement or a
/// verdict lock its group without asking the database first, and skip
/// the lock for a message without a group. A lease of another process's
/// (a lapsed one taken back) is not here: its group is looked up in the
/// lock statement. A turn's changes are kept apart ([`HeldChanges`]) and
/// applied only once it commits, so a rolled-back turn's outcomes, tried
/// again, still find their groups.
#[derive(Default)]
pub struct HeldGroups(HashMap<(Arc<str>, String), String>);

impl HeldGroups {
  /// The group of a message this store holds, `None` for one without a
  /// group. Every lease the engine holds was claimed by a committed turn
  /// of this store (claimed messages are handed out only after the
  /// commit), so a lease missing here has no group.
  pub fn group_of(&self, lease: &LeaseKey) -> Option<&str> {
    let queue = lease.queue.as_ref()?;
    self
      .0
      .get(&(queue.clone(), lease.id.clone()))
      .map(String::as_str)
  }

  /// Applies a committed turn's changes.
  pub fn apply(&mut self, changes: HeldChanges) {
    for key in changes.left {
      self.0.remove(&key);
    }
    for (key, group) in changes.claimed {
      self.0.insert(key, group);
    }
  }

  /// How many are held (for tests).
  #[cfg(test)]
  fn len(&self) -> usize {
    self.0.len()
  }
}

/// One turn's changes to [`HeldGroups`].
#[derive(Default)]
pub struct HeldChanges {
  claimed: Vec<((Arc<str>, String), String)>,
  left: Vec<(Arc<str>, String)>,
}

impl HeldChanges {
  /// Grouped messages claimed by the turn.
  pub fn claimed(&mut self, claimed: &[Claimed]) {
    for c in claimed {
      let group = c.named.as_ref().and_then(|n| n.group.as_ref());
      if let (Some(queue), Some((group, _))) = (&c.lease.queue, group) {
        self
          .claimed
          .push(((queue.clone(), c.lease.id.clone()), group.clone()));
      }
    }
  }

  /// A lease this store no longer holds once the turn commits.
  pub fn left(&mut self, lease: &LeaseKey) {
    if let Some(queue) = &lease.queue {
      self.left.push((queue.clone(), lease.id.clone()));
    }
  }
}

/// The parameters [`leave_tail`] takes: channel, payload, now, stripe.
pub fn leave_params(ctx: &Ctx, now: i64) -> Vec<Param> {
  vec![
    Box::new(ctx.channel.clone()),
    Box::new(ctx.me.clone()),
    Box::new(now),
    Box::new(ctx.stripe),
  ]
}

/// The named queue of a lease (empty for the anonymous queue's, which
/// never reach these statements).
pub fn queue_of(lease: &LeaseKey) -> &str {
  lease.queue.as_deref().unwrap_or_default()
}

/// A stored `max_attempts`: the column is an integer, and more than
/// 2^31 - 1 attempts is as good as unbounded.
fn max_attempts(n: u32) -> i32 {
  i32::try_from(n).unwrap_or(i32::MAX)
}

/// Messages to add at the end of their groups, as [`NamedSql::insert`]
/// takes them: (queue, id, due, group, max_attempts, enqueued_at,
/// payload) each.
#[derive(Default)]
pub struct NewRows {
  queues: Vec<String>,
  ids: Vec<String>,
  dues: Vec<i64>,
  groups: Vec<Option<String>>,
  max_attempts: Vec<i32>,
  enqueued_at: Vec<i64>,
  data: Vec<Vec<u8>>,
}

impl NewRows {
  /// One more message.
  #[allow(clippy::too_many_arguments)]
  pub fn push(
    &mut self,
    queue: &str,
    id: &str,
    due: i64,
    group: Option<&str>,
    max_attempts_: u32,
    enqueued_at: i64,
    data: Vec<u8>,
  ) {
    self.queues.push(queue.to_string());
    self.ids.push(id.to_string());
    self.dues.push(due);
    self.groups.push(group.map(str::to_string));
    self.max_attempts.push(max_attempts(max_attempts_));
    self.enqueued_at.push(enqueued_at);
    self.data.push(data);
  }

  /// One more message, from an enqueue.
  pub fn push_enqueue(&mut self, e: &NamedEnqueue) {
    self.push(
      &e.queue,
      &e.id,
      e.due,
      e.group.as_deref(),
      e.max_attempts,
      e.enqueued_at,
      e.payload.clone(),
    );
  }

  /// Whether there is none.
  pub fn is_empty(&self) -> bool {
    self.ids.is_empty()
  }

  /// The insert statement, counting them in `stripe`.
  pub fn into_stmt(self, sql: &NamedSql, stripe: i16) -> Stmt {
    let params: Vec<Param> = vec![
      Box::new(self.queues),
      Box::new(self.ids),
      Box::new(self.dues),
      Box::new(self.groups),
      Box::new(self.max_attempts),
      Box::new(self.enqueued_at),
      Box::new(self.data),
      Box::new(stripe),
    ];
    Stmt::new(&sql.insert, params)
  }
}

/// The two statements deciding one enqueue's dedup id at `now`: the
/// claim of its window (a row when the message is new) and the id that
/// holds the window after it (the first message's, for a duplicate). The
/// window records the commit's version: the version counter's row as
/// this transaction has it when the statement runs, plus `step` (0 when
/// the row already holds the write's version).
pub fn dedup_stmts(
  sql: &NamedSql,
  e: &NamedEnqueue,
  now: i64,
  step: i64,
) -> Vec<Stmt> {
  let Some((dedup_id, until)) = &e.dedup else {
    return Vec::new();
  };
  let put: Vec<Param> = vec![
    Box::new(e.queue.to_string()),
    Box::new(dedup_id.clone()),
    Box::new(e.id.clone()),
    Box::new(*until),
    Box::new(now),
    Box::new(step),
  ];
  let get: Vec<Param> =
    vec![Box::new(e.queue.to_string()), Box::new(dedup_id.clone())];
  vec![
    Stmt::new(&sql.dedup_put, put),
    Stmt::new(&sql.dedup_get, get),
  ]
}

/// What the rows of [`dedup_stmts`] say: `None` when the message is new,
/// else the id of the message it duplicates and that commit's version.
pub fn duplicate_of(put: &[Row], get: &[Row]) -> Result<Option<(String, i64)>> {
  if !put.is_empty() {
    return Ok(None);
  }
  let first = get.first().ok_or_else(|| {
    Error::Internal("a dedup window vanished while it was held".into())
  })?;
  let id: String = first.try_get(0).map_err(column)?;
  let version: i64 = first.try_get(1).map_err(column)?;
  Ok(Some((id, version)))
}

/// The claim statement and the earliest-ready question that goes with it.
pub fn claim_stmts(
  sql: &NamedSql,
  queue: &str,
  now: i64,
  deadline: i64,
  max: usize,
) -> Vec<Stmt> {
  let claim: Vec<Param> = vec![
    Box::new(queue.to_string()),
    Box::new(now),
    Box::new(i64::try_from(max).unwrap_or(i64::MAX)),
    Box::new(deadline),
  ];
  vec![Stmt::new(&sql.claim, claim), earliest_stmt(sql, queue)]
}

/// The earliest due time of a ready message of `queue`.
pub fn earliest_stmt(sql: &NamedSql, queue: &str) -> Stmt {
  Stmt::new(&sql.earliest, vec![Box::new(queue.to_string())])
}

/// Claimed rows (old due, id, data, attempts, enqueued_at, grp, seq), in
/// delivery order: by due time, then id.
pub fn claimed(
  rows: &[Row],
  queue: &Arc<str>,
  deadline: i64,
) -> Result<Vec<Claimed>> {
  let mut out = Vec::with_capacity(rows.len());
  for row in rows {
    let due: i64 = row.try_get(0).map_err(column)?;
    let id: String = row.try_get(1).map_err(column)?;
    let payload: Vec<u8> = row.try_get(2).map_err(column)?;
    let attempts: i32 = row.try_get(3).map_err(column)?;
    let enqueued_at: i64 = row.try_get(4).map_err(column)?;
    let group = group_of(row, 5)?;
    out.push((due, id, payload, attempts, enqueued_at, group));
  }
  out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
  Ok(
    out
      .into_iter()
      .map(|(_, id, payload, attempts, enqueued_at, group)| Claimed {
        lease: LeaseKey {
          deadline,
          id: id.clone(),
          queue: Some(queue.clone()),
        },
        payload,
        named: Some(NamedMeta {
          id,
          attempts: u32::try_from(attempts).unwrap_or(0),
          enqueued_at,
          group,
        }),
      })
      .collect(),
  )
}

/// The group and sequence number in columns `at` and `at + 1`.
pub fn group_of(row: &Row, at: usize) -> Result<Option<(String, i64)>> {
  let group: Option<String> = row.try_get(at).map_err(column)?;
  let seq: Option<i64> = row.try_get(at + 1).map_err(column)?;
  Ok(group.map(|g| (g, seq.unwrap_or(0))))
}

/// The renew statement for named leases.
pub fn renew_stmt(sql: &NamedSql, leases: &[&LeaseKey], deadline: i64) -> Stmt {
  let mut l = Leases::default();
  for lease in leases {
    l.push(lease);
  }
  let mut params: Vec<Param> = vec![Box::new(deadline)];
  params.extend(l.params());
  Stmt::new(&sql.renew, params)
}

/// Per lease, whether the renewal's returned (queue, id) rows hold it.
pub fn renewed(leases: &[&LeaseKey], rows: &[Row]) -> Result<Vec<bool>> {
  let mut held = HashSet::with_capacity(rows.len());
  for row in rows {
    let queue: String = row.try_get(0).map_err(column)?;
    let id: String = row.try_get(1).map_err(column)?;
    held.insert((queue, id));
  }
  Ok(
    leases
      .iter()
      .map(|l| held.contains(&(queue_of(l).to_string(), l.id.clone())))
      .collect(),
  )
}

/// A failed attempt back among the ready messages at `at`, with its
/// error. `always`: a listener's verdict; otherwise a lapsed lease,
/// retried only while attempts are left.
pub fn retry_stmt(
  sql: &NamedSql,
  lease: &LeaseKey,
  at: i64,
  error: &str,
  always: bool,
  stripe: i16,
) -> Stmt {
  let params: Vec<Param> = vec![
    Box::new(queue_of(lease).to_string()),
    Box::new(lease.id.clone()),
    Box::new(lease.deadline),
    Box::new(at),
    Box::new(error.to_string()),
    Box::new(always),
    Box::new(stripe),
  ];
  Stmt::new(&sql.retry, params)
}

/// A running message to the dead letters with `error`, its group moved
/// on. `always`: a listener's verdict; otherwise a lapsed lease, dead only
/// when no attempt is left. The caller locks its group first.
pub fn bury_stmt(
  sql: &NamedSql,
  lease: &LeaseKey,
  error: &str,
  now: i64,
  always: bool,
  ctx: &Ctx,
) -> Stmt {
  let mut params: Vec<Param> = vec![
    Box::new(queue_of(lease).to_string()),
    Box::new(lease.id.clone()),
    Box::new(lease.deadline),
    Box::new(always),
    Box::new(error.to_string()),
    Box::new(now),
  ];
  params.extend(leave_params(ctx, now));
  Stmt::new(&sql.bury, params)
}

/// The lapsed query's rows (queue, id, due) as leases.
pub fn leases(rows: &[Row]) -> Result<Vec<LeaseKey>> {
  rows
    .iter()
    .map(|r| {
      Ok(LeaseKey {
        queue: Some(Arc::from(r.try_get::<_, String>(0).map_err(column)?)),
        id: r.try_get(1).map_err(column)?,
        deadline: r.try_get(2).map_err(column)?,
      })
    })
    .collect()
}

pub fn column(e: tokio_postgres::Error) -> Error {
  Error::Postgres(format!("reading a named queue's row: {e}"))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn statements_name_the_schema_and_lock_keys_are_quoted() {
    let sql = NamedSql::new("it's");
    assert!(sql.claim.contains("\"it's\".named"));
    assert!(sql.lock_groups.contains("'kvq named group it''s ' || l.q"));
    assert!(sql.lock_queues.contains("'kvq named queue it''s ' || u.q"));
  }

  fn locks_of(buffer: &mut NamedBuffer) -> Vec<String> {
    let sql = NamedSql::new("s");
    buffer
      .drain_locks(&sql)
      .into_iter()
      .map(|s| {
        if s.sql == sql.lock_queues {
          "queues".to_string()
        } else {
          "groups".to_string()
        }
      })
      .collect()
  }

  #[test]
  fn queues_are_locked_before_groups_and_past_the_limit_instead() {
    let mut b = NamedBuffer::default();
    assert!(locks_of(&mut b).is_empty());
    b.lock_group("q", "g");
    b.lock_group_of("q", "id");
    assert_eq!(locks_of(&mut b), ["queues", "groups"]);
    assert!(b.is_empty());
    for i in 0..=GROUP_LOCKS_MAX {
      b.lock_group("big", &i.to_string());
    }
    assert_eq!(locks_of(&mut b), ["queues"], "one exclusive lock");
    b.lock_queue("q");
    assert_eq!(locks_of(&mut b), ["queues"]);
  }

  #[test]
  fn held_groups_change_only_with_a_commit() {
    let lease = LeaseKey {
      deadline: 1,
      id: "a".into(),
      queue: Some(Arc::from("q")),
    };
    let claimed = Claimed {
      lease: lease.clone(),
      payload: Vec::new(),
      named: Some(NamedMeta {
        group: Some(("g".into(), 1)),
        ..NamedMeta::default()
      }),
    };
    let mut held = HeldGroups::default();
    let mut changes = HeldChanges::default();
    changes.claimed(&[claimed]);
    assert_eq!(held.group_of(&lease), None);
    held.apply(changes);
    assert_eq!(held.group_of(&lease), Some("g"));
    let mut changes = HeldChanges::default();
    changes.left(&lease);
    held.apply(changes);
    assert_eq!(held.len(), 0);
  }

  #[test]
  fn max_attempts_fit_the_column() {
    assert_eq!(max_attempts(5), 5);
    assert_eq!(max_attempts(u32::MAX), i32::MAX);
  }
}
