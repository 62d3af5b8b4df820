/**
 * The public types of kvq, shaped exactly like Deno's `Deno.Kv` declarations
 * (Deno 2.9.6, `--unstable-kv`), so code typed for Deno KV type-checks
 * against kvq, plus the two kvq option bags.
 *
 * @module
 */

/** One part of a key: bytes, a string, a number, a bigint or a boolean. */
export type KvKeyPart =
  | Uint8Array
  | string
  | number
  | bigint
  | boolean
  | symbol;

/**
 * A key: an array of parts. Keys order by their parts, then by length;
 * between types, bytes < string < bigint < number < false < true.
 */
export type KvKey = readonly KvKeyPart[];

/**
 * How consistent a read must be. Local databases are always strongly
 * consistent; "eventual" is accepted and behaves the same.
 */
export type KvConsistencyLevel = "strong" | "eventual";

/**
 * Which keys `list()` visits: all keys under a prefix (the prefix itself
 * excluded), optionally cut at a start or end key, or a `[start, end)` range.
 */
export type KvListSelector =
  | { prefix: KvKey }
  | { prefix: KvKey; start: KvKey }
  | { prefix: KvKey; end: KvKey }
  | { start: KvKey; end: KvKey };

/**
 * One mutation for `AtomicOperation.mutate()`: set (optionally expiring),
 * delete, or a KvU64 sum/max/min.
 */
export type KvMutation =
  & { key: KvKey }
  & (
    | { type: "set"; value: unknown; expireIn?: number }
    | { type: "delete" }
    | { type: "sum"; value: KvU64Like }
    | { type: "max"; value: KvU64Like }
    | { type: "min"; value: KvU64Like }
  );

/** The shape of a KvU64 (kvq's class, or Deno's under Deno). */
export interface KvU64Like {
  /** The unsigned 64-bit integer. */
  readonly value: bigint;
}

/** An entry that exists. */
export interface KvEntry<T> {
  /** The key, freshly decoded from storage. */
  key: KvKey;
  /** The stored value. */
  value: T;
  /** The versionstamp of the commit that last wrote the key (20 hex chars). */
  versionstamp: string;
}

/**
 * An entry that may not exist: a missing key has `value: null` and
 * `versionstamp: null`.
 */
export type KvEntryMaybe<T> = KvEntry<T> | {
  key: KvKey;
  value: null;
  versionstamp: null;
};

/** Options of `list()`. */
export interface KvListOptions {
  /** Most entries to yield; a positive integer. Default: no limit. */
  limit?: number;
  /** Resume after the entry this cursor names (from `iterator.cursor`). */
  cursor?: string;
  /** Yield in descending key order. Only `true` reverses. */
  reverse?: boolean;
  /** Read consistency; locally always strong. */
  consistency?: KvConsistencyLevel;
  /**
   * Entries per snapshot read: default `limit`, or 100 without a limit,
   * capped at 500 unless given explicitly (the engine allows at most 1000).
   */
  batchSize?: number;
}

/** A successful commit. */
export interface KvCommitResult {
  /** Always true. */
  ok: true;
  /** The commit's versionstamp, shared by every key it wrote. */
  versionstamp: string;
}

/** A commit refused because a check failed; nothing was written. */
export interface KvCommitError {
  /** Always false. */
  ok: false;
}

/**
 * A check of an atomic operation: the key's current versionstamp must be
 * `versionstamp`, or the key must not exist when it is null.
 */
export interface AtomicCheck {
  /** The key to check. */
  key: KvKey;
  /** The expected versionstamp, or null for "must not exist". */
  versionstamp: string | null;
}

/** Options of `enqueue()`. */
export interface KvEnqueueOptions {
  /** Milliseconds before the message is due, at most 30 days. Default 0. */
  delay?: number;
  /** Keys the message is written to when every delivery attempt failed. */
  keysIfUndelivered?: KvKey[];
  /**
   * Milliseconds between retries, at most 5 intervals of at most an hour.
   * Default `[100, 1000, 5000, 30000, 60000]`; `[]` means no retry.
   */
  backoffSchedule?: number[];
}

/** The iterator `list()` returns; also an async iterable. */
export interface KvListIterator<T> extends AsyncIterableIterator<KvEntry<T>> {
  /**
   * A string that resumes the listing after the last yielded entry; `""`
   * once exhausted. Throws before the first `next()` (unless a cursor was
   * passed in the options).
   */
  readonly cursor: string;
  /** The next entry, reading the next batch when the current one is used up. */
  next(): Promise<IteratorResult<KvEntry<T>, undefined>>;
  /** The iterator itself. */
  [Symbol.asyncIterator](): AsyncIterableIterator<KvEntry<T>>;
}

/**
 * An atomic operation: checks, then mutations and enqueues, committed all
 * or nothing.
 */
export interface AtomicOperation {
  /** Adds checks; the commit fails with `{ok: false}` if any does not hold. */
  check(...checks: AtomicCheck[]): this;
  /** Adds mutations; values are serialised now (errors throw here). */
  mutate(...mutations: KvMutation[]): this;
  /** Adds a KvU64 sum (wrapping modulo 2^64); a missing key takes `n`. */
  sum(key: KvKey, n: bigint): this;
  /** Adds a KvU64 min; a missing key takes `n`. */
  min(key: KvKey, n: bigint): this;
  /** Adds a KvU64 max; a missing key takes `n`. */
  max(key: KvKey, n: bigint): this;
  /** Adds a set, optionally expiring after `expireIn` milliseconds. */
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): this;
  /** Adds a delete. */
  delete(key: KvKey): this;
  /** Adds a queue message, delivered only if the commit succeeds. */
  enqueue(value: unknown, options?: KvEnqueueOptions): this;
  /**
   * Commits: `{ok: true, versionstamp}`, or `{ok: false}` when a check
   * failed. Any other problem rejects and writes nothing.
   */
  commit(): Promise<KvCommitResult | KvCommitError>;
}

/** The handler `listenQueue()` calls with each message. */
// deno-lint-ignore no-explicit-any
export type QueueHandler = (value: any) => Promise<void> | void;

/** kvq's options of `listenQueue()` (an extension; Deno has none). */
export interface ListenQueueOptions {
  /** Most handlers running at once on this listener. Default 100. */
  concurrency?: number;
  /** Stops listening when aborted; the returned promise then resolves. */
  signal?: AbortSignal;
}

/**
 * kvq's options of `openKv()` (an extension; Deno has none).
 *
 * `openKv("postgres://user:password@host:port/db")` (or `postgresql://`)
 * opens a store in a Postgres database instead of a file, shared by every
 * process that opens the same URL. Its own settings go in the URL's query,
 * as libpq spells them: `schema` (the Postgres schema holding the store's
 * tables, default `kvq`: several stores per database), `poolSize`
 * (connections, 1-64, default 4), `sslmode` (`disable`, `prefer`, the
 * default, `require`, `verify-ca`, `verify-full`), `sslrootcert` (a PEM
 * file of CA certificates), and libpq's other keys tokio-postgres reads
 * (`connect_timeout`, `application_name`, `host=/socket/dir`, ...).
 * `leaseMs` and `durability` below apply too ("relaxed" commits with
 * `synchronous_commit = off`). Errors name the host, port, database and
 * user, never the password. See docs/postgres.md.
 */
export interface OpenKvOptions {
  /**
   * How long a delivered message stays leased without renewal, in
   * milliseconds (>= 30). Leases are renewed while handlers run; a dead
   * process's messages come back after this. Default 30000.
   */
  leaseMs?: number;
  /**
   * "full" (default): a resolved write is on disk. "relaxed": faster, a
   * crash of the machine may lose the last writes.
   */
  durability?: "full" | "relaxed";
  /**
   * Postgres only: the schema holding the store's tables (letters, digits
   * and `_`), as `?schema=` in the URL; this option wins over the URL's.
   */
  schema?: string;
  /**
   * Postgres only: how many connections the store keeps (1-64, default 4),
   * as `?poolSize=` in the URL; this option wins over the URL's.
   */
  poolSize?: number;
  /**
   * KV Connect only (`http://` and `https://` URLs): the access token sent
   * to the metadata endpoint. Default: the `DENO_KV_ACCESS_TOKEN`
   * environment variable, as Deno reads it. Never shown in an error.
   */
  accessToken?: string;
}

/** A database handle, shaped like `Deno.Kv`. */
export interface Kv extends Disposable {
  /** Reads one key; a missing key resolves with null value and versionstamp. */
  get<T = unknown>(
    key: KvKey,
    options?: { consistency?: KvConsistencyLevel },
  ): Promise<KvEntryMaybe<T>>;
  /** Reads up to 10 keys in one snapshot, in input order. */
  getMany<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: KvKey }],
    options?: { consistency?: KvConsistencyLevel },
  ): Promise<{ [K in keyof T]: KvEntryMaybe<T[K]> }>;
  /** Writes one key, optionally expiring after `expireIn` milliseconds. */
  set(
    key: KvKey,
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<KvCommitResult>;
  /** Deletes one key; resolves even when it was absent. */
  delete(key: KvKey): Promise<void>;
  /** Iterates a range in batches; selector errors throw synchronously. */
  list<T = unknown>(
    selector: KvListSelector,
    options?: KvListOptions,
  ): KvListIterator<T>;
  /** Enqueues a message; resolves once it is durably in the queue. */
  enqueue(
    value: unknown,
    options?: KvEnqueueOptions,
  ): Promise<KvCommitResult>;
  /**
   * Delivers queue messages to `handler` until the database closes (or,
   * in kvq, the signal aborts). A throw or rejection retries the message
   * along its backoff schedule.
   */
  listenQueue(
    handler: QueueHandler,
    options?: ListenQueueOptions,
  ): Promise<void>;
  /** Starts an atomic operation. */
  atomic(): AtomicOperation;
  /**
   * A stream of the keys' states: the current one at once, then one chunk
   * per change (changes coalesce while the reader is not reading).
   */
  watch<T extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof T]: KvKey }],
    options?: { raw?: boolean },
  ): ReadableStream<{ [K in keyof T]: KvEntryMaybe<T[K]> }>;
  /** Closes the database; a second call throws BadResource. */
  close(): void;
  /**
   * The symbol that, as the last part of a set key, is replaced by the
   * commit's versionstamp.
   */
  commitVersionstamp(): symbol;
}
