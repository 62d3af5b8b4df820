/**
 * bunqueue 2.9 embedded, on Bun: its queue in one SQLite file in the run's
 * directory, inside this process (its embedded mode serves one process
 * only: bench/README.md says what that means for the 4-process drain). Its
 * KV rows are a plain table in a second file through `bun:sqlite`, WAL with
 * synchronous FULL (every commit on disk, as kvq's default), what a bunqueue
 * user would pair it with: bunqueue has no KV.
 */
import { join } from "node:path";
import type { Payload, SystemAdapter } from "../lib/types.ts";
import { bunqueueInstance, loadBunqueue } from "./bunqueue_load.ts";

interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): { v: string } | null;
  all(...params: unknown[]): { v: string }[];
}
interface Database {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  transaction(f: (values: Payload[]) => void): (values: Payload[]) => void;
  close(): void;
}

/** The system under test. */
export const system: SystemAdapter = {
  async open(dir) {
    const client = await loadBunqueue();
    const sqlite = "bun:sqlite";
    const { Database } = (await import(sqlite)) as {
      Database: new (path: string) => Database;
    };
    const db = new Database(join(dir, "kv.sqlite3"));
    db.exec("pragma journal_mode = wal; pragma synchronous = full");
    db.exec("create table if not exists kv (k integer primary key, v text)");
    const put = db.prepare(
      "insert into kv (k, v) values (?, ?) on conflict (k) do update set v = excluded.v",
    );
    const read = db.prepare("select v from kv where k = ?");
    const putMany = db.transaction((values) => {
      for (const v of values) put.run(v.i, JSON.stringify(v));
    });
    const all = db.prepare(
      "select v from kv where k > ? order by k limit 1000",
    );
    return bunqueueInstance(
      client,
      { embedded: true, dataPath: join(dir, "bunqueue.sqlite3") },
      {
        set: (i, value) => {
          put.run(i, JSON.stringify(value));
          return Promise.resolve();
        },
        get: (i) => {
          const row = read.get(i);
          return Promise.resolve(row ? JSON.parse(row.v) as Payload : null);
        },
        setMany: (values) => {
          putMany(values);
          return Promise.resolve();
        },
        listAll: (stop) => {
          let n = 0;
          let after = -1;
          for (;;) {
            const rows = all.all(after);
            for (const row of rows) {
              const v = JSON.parse(row.v) as Payload;
              if (typeof v.i === "number") n++;
              after = v.i;
            }
            if (rows.length < 1000 || stop()) return Promise.resolve(n);
          }
        },
      },
      () => {
        db.close();
        return Promise.resolve();
      },
    );
  },
};
