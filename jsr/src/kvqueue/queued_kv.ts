/**
 * {@link withQueues}: a `Deno.Kv`-shaped store with a working queue. Every
 * KV method goes to the wrapped store unchanged; `enqueue`, `listenQueue`
 * and `atomic().enqueue()` go to a {@link KvQueue} kept in its keys.
 *
 * @module
 */

import { setStateOf, stateOf } from "../state.ts";
import type * as T from "../types.ts";
import { type PreparedEnqueue, prepareEnqueue } from "./enqueue.ts";
import { addPrepared, KvQueue } from "./queue.ts";
import type { KvQueueOptions, KvStore, KvStoreAtomic } from "./types.ts";

/**
 * Gives `kv` Deno's queue: returns a `Deno.Kv`-shaped object whose KV
 * methods are `kv`'s own and whose `enqueue`, `listenQueue` and
 * `atomic().enqueue()` work on any store, built on its KV operations
 * alone (docs/queues-on-kv.md). Code written for `Deno.Kv` runs unchanged
 * on it.
 *
 * ```ts
 * import { withQueues } from "jsr:@kvq/kvq";
 * const kv = withQueues(await Deno.openKv("https://kv.example.com/"));
 * kv.listenQueue((job) => console.log("handling", job));
 * await kv.enqueue({ send: "welcome" }, { delay: 1000 });
 * ```
 *
 * Every process that wraps the same store with the same `prefix` shares
 * one queue, whichever `Deno.Kv` implementation it wraps. The queue's keys
 * are visible to `list()` under the prefix (default `["__kvq", "q"]`).
 */
export function withQueues(kv: KvStore, options?: KvQueueOptions): QueuedKv {
  return new QueuedKv(kv, options);
}

type FullAtomic = KvStoreAtomic & {
  mutate?(...mutations: T.KvMutation[]): unknown;
  min?(key: T.KvKey, n: bigint): unknown;
  max?(key: T.KvKey, n: bigint): unknown;
};

/** The object {@link withQueues} returns: the store, with its queue. */
export class QueuedKv {
  #kv: KvStore;
  #queue: KvQueue;
  #closeCalled = false;
  #closed = false;

  /** Wraps `kv`; see {@link withQueues}. */
  constructor(kv: KvStore, options?: KvQueueOptions) {
    this.#kv = kv;
    this.#queue = new KvQueue(kv, options);
    // Named queues on this object are those of the store it wraps: kept
    // in kvq's engine where kvq's Kv keeps them (queues/queue.ts).
    const state = stateOf(kv);
    if (state !== undefined) setStateOf(this, state);
  }

  /** The wrapped store. */
  get store(): KvStore {
    return this.#kv;
  }

  /** The queue (for `enqueueIn` on the wrapped store's own atomics). */
  get queue(): KvQueue {
    return this.#queue;
  }

  /** The wrapped store's `get`. */
  get<V = unknown>(
    key: T.KvKey,
    options?: { consistency?: T.KvConsistencyLevel },
  ): Promise<T.KvEntryMaybe<V>> {
    return this.#kv.get(key, options) as Promise<T.KvEntryMaybe<V>>;
  }

  /** The wrapped store's `getMany`. */
  getMany<V extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof V]: T.KvKey }],
    options?: { consistency?: T.KvConsistencyLevel },
  ): Promise<{ [K in keyof V]: T.KvEntryMaybe<V[K]> }> {
    return this.#kv.getMany(keys, options) as Promise<
      { [K in keyof V]: T.KvEntryMaybe<V[K]> }
    >;
  }

  /** The wrapped store's `set` (an atomic set if it has none). */
  set(
    key: T.KvKey,
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<T.KvCommitResult> {
    if (this.#kv.set !== undefined) return this.#kv.set(key, value, options);
    const op = this.#kv.atomic();
    op.set(key, value, options);
    return op.commit() as Promise<T.KvCommitResult>;
  }

  /** The wrapped store's `delete` (an atomic delete if it has none). */
  async delete(key: T.KvKey): Promise<void> {
    if (this.#kv.delete !== undefined) return await this.#kv.delete(key);
    const op = this.#kv.atomic();
    op.delete(key);
    await op.commit();
  }

  /** The wrapped store's `list`. */
  list<V = unknown>(
    selector: T.KvListSelector,
    options?: T.KvListOptions,
  ): AsyncIterableIterator<T.KvEntry<V>> & { readonly cursor: string } {
    return this.#kv.list(selector, options) as T.KvListIterator<V>;
  }

  /** Enqueues a message: {@link KvQueue.enqueue}. */
  enqueue(
    value: unknown,
    options?: T.KvEnqueueOptions,
  ): Promise<T.KvCommitResult> {
    return this.#queue.enqueue(value, options);
  }

  /**
   * Delivers messages to `handler`: {@link KvQueue.listenQueue}. Rejects
   * with "Queue already closed" after `close()`; resolves at once after
   * `[Symbol.dispose]()` alone, as Deno does.
   */
  async listenQueue(
    handler: T.QueueHandler,
    options?: T.ListenQueueOptions,
  ): Promise<void> {
    if (this.#closeCalled) throw new Error("Queue already closed");
    if (this.#closed) return;
    return await this.#queue.listenQueue(handler, options);
  }

  /** An atomic operation of the wrapped store whose `enqueue` works. */
  atomic(): QueuedAtomicOperation {
    return new QueuedAtomicOperation(this.#kv.atomic(), this.#queue);
  }

  /** The wrapped store's `watch`. */
  watch<V extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof V]: T.KvKey }],
    options?: { raw?: boolean },
  ): ReadableStream<{ [K in keyof V]: T.KvEntryMaybe<V[K]> }> {
    return this.#kv.watch(keys, options) as unknown as ReadableStream<
      { [K in keyof V]: T.KvEntryMaybe<V[K]> }
    >;
  }

  /** The wrapped store's `commitVersionstamp()`. */
  commitVersionstamp(): symbol {
    if (this.#kv.commitVersionstamp === undefined) {
      throw new TypeError("The wrapped store has no commitVersionstamp()");
    }
    return this.#kv.commitVersionstamp();
  }

  /**
   * Stops the queue's listeners (their promises resolve), then closes the
   * wrapped store (a second call throws its BadResource error).
   */
  close(): void {
    this.#queue.close();
    this.#closeCalled = true;
    this.#closed = true;
    this.#kv.close?.();
  }

  /** Stops the queue and disposes of the wrapped store; never throws. */
  [Symbol.dispose](): void {
    this.#queue.close();
    this.#closed = true;
    const kv = this.#kv;
    if (kv[Symbol.dispose] !== undefined) {
      kv[Symbol.dispose]!();
    } else {
      try {
        kv.close?.();
      } catch {
        // Already closed: dispose never throws.
      }
    }
  }
}

/**
 * An atomic operation of the wrapped store whose `enqueue` adds the
 * message to the queue's keys in the same commit: the message exists if
 * and only if the commit succeeds. Validation as in Deno: delay, backoff
 * and the value throw at `enqueue()`, the rest rejects at `commit()`.
 */
export class QueuedAtomicOperation {
  #op: FullAtomic;
  #queue: KvQueue;
  #messages: PreparedEnqueue[] = [];
  #added = false;

  /** Made by `QueuedKv.atomic()`. */
  constructor(op: KvStoreAtomic, queue: KvQueue) {
    this.#op = op;
    this.#queue = queue;
  }

  /** Adds checks. */
  check(...checks: T.AtomicCheck[]): this {
    this.#op.check(...checks);
    return this;
  }

  /** Adds mutations. */
  mutate(...mutations: T.KvMutation[]): this {
    this.#inner("mutate").call(this.#op, ...mutations);
    return this;
  }

  /** Adds a KvU64 sum. */
  sum(key: T.KvKey, n: bigint): this {
    this.#op.sum(key, n);
    return this;
  }

  /** Adds a KvU64 min. */
  min(key: T.KvKey, n: bigint): this {
    this.#inner("min").call(this.#op, key, n);
    return this;
  }

  /** Adds a KvU64 max. */
  max(key: T.KvKey, n: bigint): this {
    this.#inner("max").call(this.#op, key, n);
    return this;
  }

  /** Adds a set. */
  set(key: T.KvKey, value: unknown, options?: { expireIn?: number }): this {
    this.#op.set(key, value, options);
    return this;
  }

  /** Adds a delete. */
  delete(key: T.KvKey): this {
    this.#op.delete(key);
    return this;
  }

  /**
   * Adds a queue message, enqueued only if the commit succeeds. Its delay
   * counts from the commit.
   */
  enqueue(value: unknown, options?: T.KvEnqueueOptions): this {
    this.#messages.push(prepareEnqueue(value, options));
    return this;
  }

  /**
   * Commits the wrapped operation with the messages: `{ ok: true,
   * versionstamp }`, or `{ ok: false }` when a check failed (then no
   * message exists). Rejects with an enqueue's deferred error first.
   */
  async commit(): Promise<T.KvCommitResult | T.KvCommitError> {
    for (const m of this.#messages) {
      if (m.deferred !== null) throw m.deferred;
    }
    // The wrapped operation keeps its mutations: a second commit sends
    // the same messages again, without adding them twice.
    if (!this.#added) {
      this.#added = true;
      addPrepared(this.#queue, this.#op, this.#messages);
    }
    return await this.#op.commit();
  }

  /** Always throws: an atomic operation is not a promise. */
  then(): never {
    throw new TypeError(
      "'Deno.AtomicOperation' is not a promise: did you forget to call 'commit()'",
    );
  }

  #inner<K extends "mutate" | "min" | "max">(
    name: K,
  ): NonNullable<FullAtomic[K]> {
    const f = this.#op[name];
    if (typeof f !== "function") {
      throw new TypeError(`The wrapped store's atomic() has no ${name}()`);
    }
    return f as NonNullable<FullAtomic[K]>;
  }
}

// Both are drop-in replacements for Deno's types (checked here rather than
// with `implements`, which would name kvq's internal interfaces in the
// published docs).
const _kv: (kv: QueuedKv) => T.Kv = (kv) => kv;
const _op: (op: QueuedAtomicOperation) => T.AtomicOperation = (op) => op;
