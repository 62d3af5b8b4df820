/**
 * Where the Postgres peers (pg-boss, graphile-worker, bunqueue) live on the
 * private server `scripts/pg.sh` starts, and the KV rows they pair with.
 *
 * Each run gets a schema of its own, named after the run's directory, so a
 * second process on the same directory (bench/peer.ts) finds the same one;
 * the instance that created it drops it on close, so every run starts clean.
 * pg-boss and graphile-worker have no KV of their own: their KV rows are a
 * plain table in the same schema (`insert … on conflict`, `select`), what a
 * user of theirs would pair them with, as the BullMQ rows use plain Redis.
 */
import { basename } from "node:path";
import process from "node:process";
import { NotAvailableError, type Payload } from "../lib/types.ts";

/** The private server's URL, or a NotAvailableError saying how to get one. */
export function pgUrl(): string {
  const url = process.env.KVQ_POSTGRES_URL;
  if (!url) {
    throw new NotAvailableError(
      "no Postgres: run the bench under scripts/pg.sh (make bench does)",
    );
  }
  return url;
}

/** A schema name for the run in `dir`, with the system's prefix. */
export function schemaFor(prefix: string, dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9_]/g, "_");
  return `${prefix}_${name}`.slice(0, 60);
}

/** The `pg` client's Pool, as much of it as is used here. */
export interface PgPool {
  query(
    text: string,
    params?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: "error", listener: (e: Error) => void): unknown;
}

type PoolCtor = new (options: object) => PgPool;

/** Opens a pool on the private server (`pg`, the client pg-boss and graphile-worker use). */
export async function pgPool(max = 10): Promise<PgPool> {
  let Pool: PoolCtor;
  try {
    const pg = await import("pg");
    Pool = (pg.default?.Pool ?? pg.Pool) as PoolCtor;
  } catch (e) {
    throw new NotAvailableError(`pg not installed: ${(e as Error).message}`);
  }
  const pool = new Pool({ connectionString: pgUrl(), max });
  pool.on("error", (e) => console.error("pg pool:", e.message));
  return pool;
}

/**
 * Creates the run's schema; true when this call created it (the owner drops
 * it on close), false when another process of the run already had.
 */
export async function createSchema(
  pool: PgPool,
  schema: string,
): Promise<boolean> {
  try {
    await pool.query(`create schema "${schema}"`);
    return true;
  } catch (e) {
    // 42P06: duplicate_schema (a peer process of the same run).
    if ((e as { code?: string }).code === "42P06") return false;
    throw e;
  }
}

/** Drops the run's schema and everything in it. */
export async function dropSchema(pool: PgPool, schema: string): Promise<void> {
  await pool.query(`drop schema if exists "${schema}" cascade`);
}

/** The KV rows of a Postgres peer: one table `bench_kv` in the run's schema. */
export class PgKv {
  readonly #pool: PgPool;
  readonly #table: string;

  private constructor(pool: PgPool, schema: string) {
    this.#pool = pool;
    this.#table = `"${schema}".bench_kv`;
  }

  /** Creates the table (if missing) in `schema`. */
  static async open(pool: PgPool, schema: string): Promise<PgKv> {
    const kv = new PgKv(pool, schema);
    await pool.query(
      `create table if not exists ${kv.#table} (k integer primary key, v jsonb not null)`,
    );
    return kv;
  }

  /** Upserts one value. */
  async set(i: number, value: Payload): Promise<void> {
    await this.#pool.query(
      `insert into ${this.#table} (k, v) values ($1, $2) on conflict (k) do update set v = excluded.v`,
      [i, JSON.stringify(value)],
    );
  }

  /** Reads one value, or null. */
  async get(i: number): Promise<Payload | null> {
    const { rows } = await this.#pool.query(
      `select v from ${this.#table} where k = $1`,
      [i],
    );
    return (rows[0]?.v as Payload | undefined) ?? null;
  }

  /** Upserts many values in one statement. */
  async setMany(values: Payload[]): Promise<void> {
    await this.#pool.query(
      `insert into ${this.#table} (k, v) select * from unnest($1::int[], $2::jsonb[]) ` +
        "on conflict (k) do update set v = excluded.v",
      [values.map((v) => v.i), values.map((v) => JSON.stringify(v))],
    );
  }

  /** Reads every row in key order, 1,000 at a time. */
  async listAll(stop: () => boolean): Promise<number> {
    let n = 0;
    let after = -1;
    for (;;) {
      const { rows } = await this.#pool.query(
        `select k, v from ${this.#table} where k > $1 order by k limit 1000`,
        [after],
      );
      for (const row of rows) {
        if (typeof (row.v as Payload).i === "number") n++;
      }
      if (rows.length < 1000 || stop()) return n;
      after = rows[rows.length - 1].k as number;
    }
  }
}
