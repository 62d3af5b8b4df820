/**
 * Child of open_lock_test.ts, run on Node 24: takes SQLite's write lock on
 * FILE with `node:sqlite` (a real, separate process, as another program
 * writing the file would be), prints `locked`, holds it for MS
 * milliseconds, then commits, prints `released` and exits.
 *
 * @module
 */

import process from "node:process";
import { DatabaseSync } from "node:sqlite";

const [file, ms] = process.argv.slice(2);
const db = new DatabaseSync(file);
// Deno KV's files are in WAL mode: a writer there holds the WAL write lock.
db.exec("PRAGMA journal_mode = wal");
db.exec("BEGIN IMMEDIATE");
console.log("locked");
setTimeout(() => {
  db.exec("COMMIT");
  db.close();
  console.log("released");
}, Number(ms));
