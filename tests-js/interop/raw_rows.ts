/**
 * Reads a database file's rows with SQLite itself (node:sqlite), below any
 * KV layer: what encoding and bytes a writer really left.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";

/** The `kv` table as hex key → [v_encoding, hex value]. */
export function kvRows(file: string): Map<string, [number, string]> {
  const db = new DatabaseSync(file);
  try {
    const rows = db.prepare(
      "select hex(k) as k, v_encoding as e, hex(v) as v from kv",
    ).all() as { k: string; e: number; v: string }[];
    return new Map(
      rows.map((r) => [r.k.toLowerCase(), [r.e, r.v.toLowerCase()]]),
    );
  } finally {
    db.close();
  }
}

/** How many rows `table` holds. */
export function countRows(file: string, table: string): number {
  const db = new DatabaseSync(file);
  try {
    const row = db.prepare(`select count(*) as n from ${table}`).get() as {
      n: number;
    };
    return Number(row.n);
  } finally {
    db.close();
  }
}

/** The hex of a key made of strings only, in Deno KV's key encoding. */
export function stringKeyHex(parts: string[]): string {
  let out = "";
  for (const part of parts) {
    out += "02";
    for (const b of new TextEncoder().encode(part)) {
      // A zero byte inside a string is escaped as 00 FF.
      out += b === 0 ? "00ff" : b.toString(16).padStart(2, "0");
    }
    out += "00";
  }
  return out;
}

/** SQLite's own verdict on the file: "ok" when it is sound. */
export function integrity(file: string): string {
  const db = new DatabaseSync(file);
  try {
    const rows = db.prepare("pragma integrity_check").all() as Record<
      string,
      unknown
    >[];
    return rows.map((r) => Object.values(r).join(" ")).join("; ");
  } finally {
    db.close();
  }
}
