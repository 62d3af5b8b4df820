/**
 * The shapes shared by the conformance suite and its runners.
 *
 * Nothing here depends on a runtime: the same files run on Deno, Bun, Node 24
 * (type stripping) and Node 20 (an esbuild bundle).
 *
 * Method parameters are typed `unknown` on purpose: the suite feeds wrong
 * arguments (null keys, strings as options, ...) to check the errors, and a
 * looser parameter type keeps those cases free of casts.
 *
 * @module
 */

/** One entry as returned by get, getMany, list and watch. */
export interface KvEntryLike {
  /** The key, freshly decoded (or the caller's own array when not found). */
  key: unknown[];
  /** The stored value, or null when the key is absent. */
  value: unknown;
  /** 20 lowercase hex characters, or null when the key is absent. */
  versionstamp: string | null;
}

/** The result of a commit: `{ok: true, versionstamp}` or `{ok: false}`. */
export interface CommitResultLike {
  /** True when the write happened. */
  ok: boolean;
  /** The commit's versionstamp; absent when `ok` is false. */
  versionstamp?: string;
}

/** The async iterator returned by `kv.list()`. */
export interface ListIteratorLike extends AsyncIterableIterator<KvEntryLike> {
  /** The cursor of the last yielded entry ("" once exhausted). */
  readonly cursor: string;
}

/** The builder returned by `kv.atomic()`. */
export interface AtomicLike {
  /** Adds versionstamp checks. */
  check(...checks: unknown[]): AtomicLike;
  /** Adds raw mutations. */
  mutate(...mutations: unknown[]): AtomicLike;
  /** Queues a set. */
  set(key: unknown, value: unknown, options?: unknown): AtomicLike;
  /** Queues a delete. */
  delete(key: unknown): AtomicLike;
  /** Queues a KvU64 sum. */
  sum(key: unknown, n: unknown): AtomicLike;
  /** Queues a KvU64 min. */
  min(key: unknown, n: unknown): AtomicLike;
  /** Queues a KvU64 max. */
  max(key: unknown, n: unknown): AtomicLike;
  /** Queues a queue message. */
  enqueue(value: unknown, options?: unknown): AtomicLike;
  /** Runs checks, then mutations and enqueues, all or nothing. */
  commit(): Promise<CommitResultLike>;
}

/** The subset of `Deno.Kv` that every target must provide. */
export interface KvLike {
  /** Reads one key. */
  get(key: unknown, options?: unknown): Promise<KvEntryLike>;
  /** Reads up to 10 keys in one snapshot. */
  getMany(keys: unknown, options?: unknown): Promise<KvEntryLike[]>;
  /** Writes one key. */
  set(
    key: unknown,
    value: unknown,
    options?: unknown,
  ): Promise<CommitResultLike>;
  /** Deletes one key. */
  delete(key: unknown): Promise<void>;
  /** Lists a range. */
  list(selector: unknown, options?: unknown): ListIteratorLike;
  /** Starts an atomic operation. */
  atomic(): AtomicLike;
  /** Enqueues a queue message. */
  enqueue(value?: unknown, options?: unknown): Promise<CommitResultLike>;
  /** Listens for queue messages until the database closes. */
  listenQueue(handler: unknown, options?: unknown): Promise<void>;
  /** Watches up to 10 keys. */
  watch(keys: unknown, options?: unknown): ReadableStream<KvEntryLike[]>;
  /** The symbol that stands for the commit's versionstamp in a set key. */
  commitVersionstamp(): symbol;
  /** Closes the database. */
  close(): void;
  /** Closes the database, never throwing. */
  [Symbol.dispose](): void;
}

/** A constructor of errors, matched by `instanceof` and by name. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = new (...args: any[]) => Error;

/** The KvU64 class of a target. */
export interface KvU64Class {
  /** Builds a KvU64; throws on a value outside 0..2^64-1. */
  new (value: unknown): { readonly value: bigint };
}

/** One implementation of the Deno KV API under test. */
export interface Target {
  /** Short name, shown in the output: "deno-native", "node", ... */
  name: string;
  /** Opens a database; `options` carries kvq-only options such as leaseMs. */
  openKv(path?: unknown, options?: Record<string, unknown>): Promise<KvLike>;
  /** True for real `Deno.openKv`: picks Deno's side of the known deviations. */
  isDenoNative: boolean;
  /** True when kvq-only extensions (concurrency, signal, leaseMs) exist. */
  kvqExtensions: boolean;
  /** A fresh, unused database file path in a directory the runner removes. */
  tempPath(): string;
  /** The target's KvU64 class. */
  KvU64: KvU64Class;
  /** The class of "Bad resource ID" errors (Deno.errors.BadResource in Deno). */
  BadResource?: ErrorClass;
}

/** One conformance case. */
export interface Case {
  /** "<object>.<method>: sentence about behaviour". */
  name: string;
  /** Runs the case; throwing fails it. */
  run(t: Target): Promise<void>;
  /** Returns a reason to skip on this target, or undefined to run it. */
  skip?(t: Target): string | undefined;
  /**
   * Milliseconds before the case counts as failed, for a case that runs
   * many processes one after another (default: the runner's).
   */
  timeoutMs?: number;
}
