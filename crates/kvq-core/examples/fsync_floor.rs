//! The floor under sequential writes: a bare rusqlite loop, one row and one
//! transaction per commit, with the same settings kvq uses at full
//! durability (WAL, synchronous=FULL). No threads, no channels, no
//! JavaScript: what this machine's disk allows one writer at one fsync per
//! commit. bench/ compares kvq's sequential enqueue with it.
//!
//! Below that, the disk's own floor: 4 KB written in place into a
//! preallocated file, then `fdatasync`, with no SQLite at all. No writer
//! that resolves each write only once it is on disk, one at a time, can
//! beat that rate on this machine.
//!
//!     cargo run --release -p kvq-core --example fsync_floor [-- COUNT]

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
  let sqlite = count as f64 / started.elapsed().as_secs_f64();
  drop(conn);
  let raw = raw_syncs(&dir.join("raw.bin"), count)?;
  println!(
    "{{\"commits\": {count}, \"sqlite_commits_per_second\": {sqlite:.0}, \"raw_syncs_per_second\": {raw:.0}}}"
  );
  std::fs::remove_dir_all(&dir).ok();
  Ok(())
}

/// Writes one 4 KB block in place and syncs its data, `count` times, in a
/// file allocated and synced beforehand (so no sync carries a size change).
fn raw_syncs(path: &std::path::Path, count: u32) -> std::io::Result<f64> {
  use std::os::unix::fs::FileExt;
  let file = std::fs::OpenOptions::new()
    .create(true)
    .truncate(true)
    .read(true)
    .write(true)
    .open(path)?;
  let block = [b'x'; 4096];
  for i in 0..u64::from(count) {
    file.write_all_at(&block, i * 4096)?;
  }
  file.sync_all()?;
  let started = Instant::now();
  for i in 0..u64::from(count) {
    file.write_all_at(&block, i * 4096)?;
    file.sync_data()?;
  }
  Ok(f64::from(count) / started.elapsed().as_secs_f64())
}
