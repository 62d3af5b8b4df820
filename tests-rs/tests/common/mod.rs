//! Helpers for the integration tests that need what the library crate does
//! not carry: the probe binary's path, child processes, and a second,
//! independent SQLite connection to look at the file behind the engine.
//!
//! Each test binary uses a different subset of these, hence the allow.
#![allow(dead_code)]

use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;

use rusqlite::types::ValueRef;
use rusqlite::Connection;
use rusqlite::OpenFlags;

/// A fresh temporary directory and the path of a database file in it.
pub fn temp_db() -> (tempfile::TempDir, String) {
  let dir = tempfile::tempdir().expect("temp dir");
  let path = dir.path().join("kv.sqlite3");
  (dir, path.to_str().expect("utf-8 temp path").to_string())
}

/// Starts `kvq_probe` with these arguments, stdout piped.
pub fn probe(args: &[&str]) -> Child {
  Command::new(env!("CARGO_BIN_EXE_kvq_probe"))
    .args(args)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .expect("spawn kvq_probe")
}

/// Reads the child's next stdout line (blocking).
pub fn read_line(child: &mut Child) -> String {
  let stdout = child.stdout.as_mut().expect("piped stdout");
  let mut line = String::new();
  BufReader::new(stdout).read_line(&mut line).expect("read");
  line.trim().to_string()
}

/// Waits for a probe and asserts it exited cleanly.
pub fn wait_ok(child: &mut Child) {
  let status = child.wait().expect("wait");
  assert!(status.success(), "kvq_probe failed: {status}");
}

/// A second connection to the file, read-only, that never goes through
/// the engine.
pub fn inspect(path: &str) -> Connection {
  let flags =
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
  let conn = Connection::open_with_flags(path, flags).expect("open file");
  conn
    .busy_timeout(std::time::Duration::from_secs(5))
    .expect("busy timeout");
  conn
}

/// Rows in `queue` and in `queue_running`.
pub fn queue_counts(conn: &Connection) -> (i64, i64) {
  let count = |table: &str| -> i64 {
    conn
      .query_row(&format!("select count(*) from {table}"), [], |r| r.get(0))
      .expect("count")
  };
  (count("queue"), count("queue_running"))
}

/// The stored `data_version.version`.
pub fn data_version(conn: &Connection) -> i64 {
  conn
    .query_row("select version from data_version where k = 0", [], |r| {
      r.get(0)
    })
    .expect("data_version row")
}

/// Every row of every table, in a fixed order, as text: two equal dumps
/// mean equal content, byte for byte (blobs are written in hex).
pub fn dump(conn: &Connection) -> Vec<String> {
  let mut tables: Vec<String> = conn
    .prepare(
      "select name from sqlite_master where type = 'table' order by name",
    )
    .expect("prepare")
    .query_map([], |r| r.get(0))
    .expect("tables")
    .collect::<Result<_, _>>()
    .expect("table names");
  tables.sort();
  let mut out = Vec::new();
  for table in tables {
    let mut stmt = conn
      .prepare(&format!("select * from {table} order by 1, 2"))
      .expect("select");
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).expect("rows");
    while let Some(row) = rows.next().expect("row") {
      let cells: Vec<String> = (0..columns)
        .map(|i| match row.get_ref(i).expect("cell") {
          ValueRef::Null => "null".into(),
          ValueRef::Integer(n) => n.to_string(),
          ValueRef::Real(x) => x.to_string(),
          ValueRef::Text(t) => format!("text:{}", String::from_utf8_lossy(t)),
          ValueRef::Blob(b) => format!("blob:{}", hex(b)),
        })
        .collect();
      out.push(format!("{table}: {}", cells.join(" | ")));
    }
  }
  out
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
  bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The repository's root (the parent of this crate's folder).
pub fn repo_root() -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR"))
    .parent()
    .expect("tests-rs has a parent")
    .to_path_buf()
}
