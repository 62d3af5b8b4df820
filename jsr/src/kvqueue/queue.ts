/**
 * {@link KvQueue}: Deno's `enqueue` and `listenQueue` over the KV
 * operations of any `Deno.Kv`-shaped store.
 *
 * @module
 */

import { checkListenOptions } from "../check.ts";
import type {
  KvCommitResult,
  KvEnqueueOptions,
  KvKey,
  ListenQueueOptions,
  QueueHandler,
} from "../types.ts";
import { Consumer, type Listener } from "./consumer.ts";
import {
  addEnqueue,
  addWake,
  type PreparedEnqueue,
  prepareEnqueue,
} from "./enqueue.ts";
import { Layout, newOwnerId } from "./layout.ts";
import { LeaseTable } from "./leases.ts";
import { type Config, resolveOptions } from "./options.ts";
import { denoPolicy } from "./policy.ts";
import type { KvQueueOptions, KvStore, KvStoreAtomic } from "./types.ts";

let addPreparedImpl: (
  queue: KvQueue,
  op: KvStoreAtomic,
  messages: PreparedEnqueue[],
) => void;

/**
 * Adds messages checked by `prepareEnqueue` to `op`, due from now, with
 * the queue's wake-up bump once per operation: the commit-time half of an
 * enqueue inside `atomic()`. Not exported from the package.
 */
export function addPrepared(
  queue: KvQueue,
  op: KvStoreAtomic,
  messages: PreparedEnqueue[],
): void {
  addPreparedImpl(queue, op, messages);
}

/**
 * A durable queue kept in the keys of a store with the `Deno.Kv` KV
 * surface: Deno's `enqueue` and `listenQueue`, built only on get, list,
 * atomic operations with versionstamp checks, and watch. It runs on Deno's
 * own `Deno.openKv` (a file, memory, a KV Connect URL), on Deno Deploy's
 * KV, and on kvq's `openKv`; every process (and machine) that opens the
 * same store with the same prefix shares the queue.
 *
 * Most code wants {@link withQueues}, which returns the store itself with
 * these methods in place. This class is the queue alone, for code that
 * keeps using the store it has.
 *
 * ```ts
 * const kv = await Deno.openKv("https://kv.example.com/");
 * const queue = new KvQueue(kv);
 * queue.listenQueue((job) => console.log(job));
 * await queue.enqueue({ send: "welcome" }, { delay: 1000 });
 * ```
 */
export class KvQueue {
  #kv: KvStore;
  #config: Config;
  #layout: Layout;
  #leases: LeaseTable;
  #consumer: Consumer;
  #closed = false;
  #stops = new Set<() => void>();
  #woken = new WeakSet<object>();

  /**
   * The queue of `kv` under `options.prefix`. Throws TypeError for an
   * option out of range. Nothing is read or written until used.
   */
  constructor(kv: KvStore, options?: KvQueueOptions) {
    this.#kv = kv;
    this.#config = resolveOptions(options);
    this.#layout = new Layout(this.#config.prefix);
    const policy = denoPolicy(this.#layout);
    this.#leases = new LeaseTable(
      kv,
      this.#layout,
      this.#config.leaseMs,
      this.#config.checks,
      policy,
    );
    this.#consumer = new Consumer(
      kv,
      this.#layout,
      this.#config,
      this.#leases,
      policy,
      newOwnerId(),
      () => this.close(),
    );
  }

  /** The key prefix under which this queue keeps its keys. */
  get prefix(): KvKey {
    return this.#layout.prefix;
  }

  /**
   * Enqueues a message in its own commit: resolves to
   * `{ ok: true, versionstamp }` once it is stored. Options, defaults,
   * limits and errors are Deno's: `delay` (ms, at most 30 days),
   * `keysIfUndelivered`, `backoffSchedule` (default
   * `[100, 1000, 5000, 30000, 60000]`; `[]`: a single attempt), a V8
   * payload of at most 65536 bytes. Rejects with Deno's TypeErrors.
   */
  async enqueue(
    value: unknown,
    options?: KvEnqueueOptions,
  ): Promise<KvCommitResult> {
    const message = prepareEnqueue(value, options);
    if (message.deferred !== null) throw message.deferred;
    const op = this.#kv.atomic();
    this.#addPrepared(op, [message]);
    const res = await op.commit();
    if (!res.ok) throw new TypeError("Failed to enqueue value");
    return { ok: true, versionstamp: res.versionstamp };
  }

  /**
   * Adds a message to `op`, an atomic operation of the same store: it is
   * enqueued if and only if `op` commits (its checks hold). Returns `op`.
   * Every error throws here, at once (Deno raises some only at commit; the
   * atomic operations of {@link withQueues} do that too). Its delay counts
   * from this call. One message takes two of the operation's mutations,
   * and the first one per operation a third (the wake-up key).
   */
  enqueueIn<A extends KvStoreAtomic>(
    op: A,
    value: unknown,
    options?: KvEnqueueOptions,
  ): A {
    const message = prepareEnqueue(value, options);
    if (message.deferred !== null) throw message.deferred;
    this.#addPrepared(op, [message]);
    return op;
  }

  static {
    addPreparedImpl = (queue, op, messages) => queue.#addPrepared(op, messages);
  }

  // Adds validated messages to `op`, due from now, and the wake-up bump
  // once per operation.
  #addPrepared(op: KvStoreAtomic, messages: PreparedEnqueue[]): void {
    const now = Date.now();
    for (const m of messages) addEnqueue(op, this.#layout, m, now);
    if (messages.length > 0 && !this.#woken.has(op)) {
      this.#woken.add(op);
      addWake(op, this.#layout);
    }
  }

  /**
   * Delivers messages to `handler` until {@link close} or the signal
   * aborts; Deno's semantics: at-least-once delivery, a throw or rejection
   * retries along the message's backoff schedule, and when none is left
   * the value is written to every `keysIfUndelivered` key. kvq's options:
   * `concurrency` (most handlers at once, default 100) and `signal`.
   *
   * On abort the listener takes no new message, messages claimed for it
   * but not started go back to the queue (the attempt not counted), and
   * the promise resolves; running handlers finish and their outcomes are
   * recorded. On close it resolves at once. Several listeners, in one
   * process or many, share the messages.
   */
  async listenQueue(
    handler: QueueHandler,
    options?: ListenQueueOptions,
  ): Promise<void> {
    if (this.#closed) throw new Error("Queue already closed");
    const concurrency = checkListenOptions(options);
    const signal = options?.signal;
    if (signal?.aborted) return;
    const listener: Listener = { handler, concurrency, running: 0 };
    let end!: () => void;
    const ended = new Promise<void>((resolve) => end = resolve);
    const onAbort = () => this.#consumer.remove(listener).then(end);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#stops.add(end);
    this.#consumer.add(listener);
    try {
      await ended;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#stops.delete(end);
    }
  }

  /**
   * Stops every listener at once (their promises resolve) and stops
   * renewing leases; does not close the store. Messages whose handlers
   * are still running stay leased and come back after `leaseMs`, as a
   * failed attempt. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consumer.stop();
    this.#leases.stop();
    for (const stop of this.#stops) stop();
    this.#stops.clear();
  }
}
