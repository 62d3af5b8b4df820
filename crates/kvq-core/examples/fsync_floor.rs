//! The floor under sequential writes: a bare rusqlite loop, one row and one
//! transaction per commit, with the same settings kvq uses at full
//! durability (WAL, synchronous=FULL). No threads, no channels, no
//! JavaScript: what this machine's disk allows one writer at one fsync per
//! commit. bench/ compares kvq's sequential enqueue with it.
//!
//!     cargo run --release -p kvq-core --example fsync_floor [-- COUNT]

use std::time::Instant;

fn main() -> rusqlite::Result<()> {
  let count: u32 = std::env::args()
    .nth(1)
    .and_then(|a| a.parse().ok())
    .unwrap_or(2000);
  let dir =
    std::env::temp_dir().join(format!("kvq-floor-{}", std::process::id()));
  std::fs::create_dir_all(&dir).ok();
  let path = dir.join("floor.sqlite3");
  let mut conn = rusqlite::Connection::open(&path)?;
  conn.pragma_update(None, "journal_mode", "wal")?;
  conn.pragma_update(None, "synchronous", "full")?;
  conn
    .execute_batch("create table t (k integer primary key, v blob not null)")?;
  let payload = vec![b'x'; 130];
  let started = Instant::now();
  for i in 0..count {
    let tx = conn.transaction()?;
    tx.execute("insert into t (k, v) values (?, ?)", (i, &payload))?;
    tx.commit()?;
  }
  let secs = started.elapsed().as_secs_f64();
  println!(
    "{{\"commits\": {count}, \"seconds\": {secs:.3}, \"commits_per_second\": {:.0}}}",
    count as f64 / secs
  );
  drop(conn);
  std::fs::remove_dir_all(&dir).ok();
  Ok(())
}
