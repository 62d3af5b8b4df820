/**
 * The shapes of the queue on any Deno.Kv: what it needs from the store it
 * wraps ({@link KvStore}), and its own options.
 *
 * The store's surface is declared loosely (parameters as Deno declares
 * them, results as the queue uses them) so that `Deno.Kv` (a file, memory,
 * a KV Connect URL, Deno Deploy's KV), kvq's `Kv` and any other object with
 * the same methods fit without casts.
 *
 * @module
 */

import type {
  AtomicCheck,
  KvCommitError,
  KvCommitResult,
  KvEntry,
  KvEntryMaybe,
  KvKey,
  KvListOptions,
  KvListSelector,
} from "../types.ts";

/**
 * The atomic operation of a wrapped store: the builder methods the queue
 * calls (check, set, delete, sum, commit). `mutate`, `min` and `max` are
 * passed through by `withQueues` when the store has them.
 */
export interface KvStoreAtomic {
  /** Adds versionstamp checks. */
  check(...checks: AtomicCheck[]): unknown;
  /** Adds a set, optionally expiring. */
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): unknown;
  /** Adds a delete. */
  delete(key: KvKey): unknown;
  /** Adds a KvU64 sum. */
  sum(key: KvKey, n: bigint): unknown;
  /** Commits all or nothing; `{ ok: false }` when a check failed. */
  commit(): Promise<KvCommitResult | KvCommitError>;
}

/**
 * Any object with the KV surface of `Deno.Kv`: the queue is built on these
 * operations alone. `Deno.Kv` and kvq's `Kv` both fit. The optional members
 * are only forwarded by {@link withQueues}'s wrapper.
 */
export interface KvStore {
  /** Reads one key. */
  get(
    key: KvKey,
    options?: { consistency?: "strong" | "eventual" },
  ): Promise<KvEntryMaybe<unknown>>;
  /** Reads up to 10 keys in one snapshot. */
  getMany(
    keys: readonly KvKey[],
    options?: { consistency?: "strong" | "eventual" },
  ): Promise<KvEntryMaybe<unknown>[]>;
  /** Iterates a range. */
  list(
    selector: KvListSelector,
    options?: KvListOptions,
  ): AsyncIterable<KvEntry<unknown>>;
  /** Starts an atomic operation. */
  atomic(): KvStoreAtomic;
  /** Watches up to 10 keys. */
  watch(
    keys: readonly KvKey[],
    options?: { raw?: boolean },
  ): ReadableStream<KvEntryMaybe<unknown>[]>;
  /** Writes one key (the wrapper falls back to an atomic set). */
  set?(
    key: KvKey,
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<KvCommitResult>;
  /** Deletes one key (the wrapper falls back to an atomic delete). */
  delete?(key: KvKey): Promise<void>;
  /** The commit-versionstamp symbol, forwarded by the wrapper. */
  commitVersionstamp?(): symbol;
  /** Closes the store, forwarded by the wrapper. */
  close?(): void;
  /** Closes the store without throwing, forwarded by the wrapper. */
  [Symbol.dispose]?(): void;
}

/** Options of {@link KvQueue} and {@link withQueues}. */
export interface KvQueueOptions {
  /**
   * The key prefix under which the queue keeps its messages, leases and
   * wake-up key. Default `["__kvq", "q"]`. Every process that shares a queue
   * must use the same prefix; different prefixes are independent queues.
   */
  prefix?: KvKey;
  /**
   * How long a claimed message stays leased without renewal, in ms (30 to
   * 86400000). Leases of running handlers are renewed every third of it; a
   * message whose holder died returns after it, as a failed attempt.
   * Default 30000.
   */
  leaseMs?: number;
  /**
   * How often a listener looks for due messages and expired leases without
   * being woken, in ms (10 to 3600000). Wake-ups come through `watch` on
   * the queue's wake-up key; this poll is the backstop for stores whose
   * watch does not cross processes (Deno's local SQLite) and for delayed
   * messages enqueued elsewhere. Default 1000.
   */
  pollIntervalMs?: number;
  /**
   * The most versionstamp checks the queue puts in one atomic operation
   * (1 to 100): claims, acknowledgements and renewals of up to this many
   * messages share one commit. Default: 100, lowered for good to 10 the
   * first time the store refuses that many (the KV Connect server allows
   * 10; Deno's local KV and kvq allow 100).
   */
  checksPerAtomic?: number;
}
