/**
 * {@link NamedQueue}: a handle on one named queue of a store. On kvq's own
 * stores whose engine keeps named queues (a SQLite file, Postgres) it is
 * the engine's (native.ts: tables, batched claims). On any other store
 * with the `Deno.Kv` KV surface (KV Connect, Deno's own `Deno.openKv`,
 * Deno Deploy's KV) it is built on kvqueue's KV-only engine
 * (jsr/src/kvqueue). Both behave the same for a user (docs/api.md).
 *
 * @module
 */

import {
  Consumer,
  type Listener,
  type RunDelivery,
} from "../kvqueue/consumer.ts";
import { newOwnerId } from "../kvqueue/layout.ts";
import { LeaseTable } from "../kvqueue/leases.ts";
import { type Config, resolveOptions } from "../kvqueue/options.ts";
import type { KvStore, KvStoreAtomic } from "../kvqueue/types.ts";
import * as admin from "./admin.ts";
import * as repair from "./repair.ts";
import {
  attempt,
  type MessageHandler,
  type MessageInfo,
  Timeouts,
} from "./attempt.ts";
import { checkHandlers, type TypedHandlers } from "./dispatch.ts";
import {
  enqueueInto,
  enqueueNamed,
  isAtomic,
  payloadOf,
  type QueueEnqueueInResult,
  type QueueEnqueueResult,
} from "./enqueue.ts";
import { idTime, NamedLayout, sameKey } from "./layout.ts";
import { collect } from "./groups.ts";
import {
  checkName,
  type QueueConfig,
  type QueueEnqueueOptions,
  type QueueListenOptions,
  type QueueOptions,
  resolveEnqueueOptions,
  resolveListenOptions,
  resolveQueueOptions,
  show,
} from "./options.ts";
import { namedPolicy } from "./outcomes.ts";
import { hasNativeQueues, NativeQueue } from "./native.ts";
import { inTurn, ride, riderWith } from "../named_write.ts";
import { stateOf } from "../state.ts";
import { AtomicOperation } from "../atomic.ts";

export type { MessageHandler, MessageInfo } from "./attempt.ts";

/**
 * A handle on the named queue `name` of `kv`, any store with the
 * `Deno.Kv` KV surface. Any number of handles, listeners and processes
 * share one queue; queues of different names never see each other's
 * messages. Throws TypeError for a bad name or option.
 *
 * ```ts
 * const emails = queue(kv, "emails", { maxAttempts: 8 });
 * emails.listen(async (mail, { attempt, signal }) => send(mail, { signal }));
 * const { id } = await emails.enqueue({ to: "ada@example.com" });
 * ```
 */
export function queue<T = unknown>(
  kv: KvStore,
  name: string,
  options?: QueueOptions,
): NamedQueue<T> {
  return new NamedQueue<T>(kv, name, options);
}

/** A named queue of a store: see {@link queue}. */
export class NamedQueue<T = unknown> {
  #kv: KvStore;
  #layout: NamedLayout;
  #config: QueueConfig;
  #engineConfig: Config;
  #leases: LeaseTable;
  #consumer: Consumer;
  #closed = false;
  #stops = new Set<() => void>();
  #native: Promise<NativeQueue | null> | undefined;
  #marked = false;

  /** See {@link queue}. */
  constructor(kv: KvStore, name: string, options?: QueueOptions) {
    if (
      kv === null || typeof kv !== "object" ||
      typeof (kv as KvStore).atomic !== "function"
    ) {
      throw new TypeError(
        "queue: kv must be a Deno.Kv (an object with get, getMany, list, atomic and watch)",
      );
    }
    this.#kv = kv;
    this.#layout = new NamedLayout(checkName(name));
    this.#config = resolveQueueOptions(options);
    this.#engineConfig = resolveOptions({
      ...this.#config.engine,
      prefix: this.#layout.prefix,
    });
    const policy = namedPolicy(
      kv,
      this.#layout,
      this.#config,
      () => this.#consumer,
    );
    this.#leases = new LeaseTable(
      kv,
      this.#layout,
      this.#engineConfig.leaseMs,
      this.#engineConfig.checks,
      policy,
    );
    this.#consumer = new Consumer(
      kv,
      this.#layout,
      this.#engineConfig,
      this.#leases,
      policy,
      newOwnerId(),
      () => this.close(),
    );
  }

  /** The queue's name. */
  get name(): string {
    return this.#layout.name;
  }

  /**
   * Where the store keeps this queue: `"engine"` (kvq's SQLite files and
   * Postgres: tables of the engine's own, docs/api.md) or `"keys"` (any
   * other `Deno.Kv`: KV Connect, Deno's own `Deno.openKv`). Rejects as the
   * store does when it is closed.
   */
  async storedIn(): Promise<"engine" | "keys"> {
    const native = await this.#nativeQueue();
    if (native !== null) {
      native.ensureOpen();
      return "engine";
    }
    // The answer is cached; a read lets a closed store say so.
    await this.#kv.get(this.#layout.engineMarker);
    return "keys";
  }

  /** The engine's side of this queue, when the store keeps it there. */
  /**
   * The engine's side of this queue, when the store keeps it there; with
   * `mark` (a call that writes or listens), the marker key is written
   * first if it is missing. Reads (counts, peek, stats) write nothing.
   */
  async #nativeQueue(mark = false): Promise<NativeQueue | null> {
    if (this.#native === undefined) {
      this.#native = this.#choose();
      // A failed look (a closed store) is taken again next time.
      this.#native.catch(() => this.#native = undefined);
    }
    const native = await this.#native;
    if (native !== null && mark && !this.#marked) {
      const marker = this.#layout.engineMarker;
      const op = this.#kv.atomic();
      op.check({ key: marker, versionstamp: null });
      op.set(marker, { keptIn: "engine", since: Date.now() });
      // Another handle may have set it first: either way it is there.
      await op.commit();
      this.#marked = true;
    }
    return native;
  }

  /**
   * Where this queue is kept, decided at the handle's first use. A queue
   * that already has keys stays as keys (a file an earlier kvq or Deno's
   * own `Deno.openKv` filled), so nothing is stranded; otherwise the
   * engine keeps it where the store can, and a marker key says so (written
   * by the first enqueue or listen), so that a process using the keys
   * (Deno's `Deno.openKv` on the same file) is refused rather than given a
   * separate, empty queue.
   */
  async #choose(): Promise<NativeQueue | null> {
    const kv = this.#kv;
    const state = stateOf(kv);
    const marker = this.#layout.engineMarker;
    const keys = await collect(
      kv.list({ prefix: this.#layout.prefix }, { limit: 2 }),
    );
    const marked = keys.some((e) => sameKey(e.key, marker));
    if (keys.some((e) => !sameKey(e.key, marker))) return null;
    if (state !== undefined && await hasNativeQueues(state)) {
      this.#marked = marked;
      return new NativeQueue(state, this.name, this.#config);
    }
    // kvq's own store without engine queues (KV Connect) never had them:
    // a marker there came with a copy of the keys. Deno's own Deno.openKv
    // may be on a file whose engine keeps the queue.
    if (marked && state === undefined) {
      throw new Error(
        `queue "${this.name}" is kept in kvq's engine tables of this store: open the store with kvq's openKv to use it`,
      );
    }
    return null;
  }

  /**
   * Enqueues `value`: resolves to `{ ok: true, versionstamp, id,
   * duplicate }` once stored. Options: `delay`, `group`, `dedupId`
   * ({@link QueueEnqueueOptions}). Throws TypeError for a bad option, a
   * value V8 cannot serialise, or a payload over 65536 bytes.
   */
  async enqueue(
    value: T,
    options?: QueueEnqueueOptions,
  ): Promise<QueueEnqueueResult> {
    const o = resolveEnqueueOptions(options);
    const payload = payloadOf(value);
    const native = await this.#nativeQueue(true);
    if (native !== null) return await native.enqueue(payload, o);
    return (await enqueueNamed(
      this.#kv,
      this.#layout,
      this.#config,
      { value, ...o },
      payload,
    ))!;
  }

  /**
   * Adds an enqueue of `value` to `atomic`, an atomic operation of the
   * same store (`kv.atomic()`), and resolves to `{ id, duplicate }`: the
   * message is stored, and delivered, if and only if `atomic` commits, with
   * the caller's own checks and writes (the transactional outbox).
   * Options as {@link enqueue}. A group's state and a dedup id are checked
   * in `atomic`: another enqueue on the same group or dedup id before the
   * commit makes it fail (`ok: false`), like any check; try again. A dedup
   * id already taken adds nothing (`duplicate: true`, the first message's
   * id). Throws TypeError for an `atomic` that is not an atomic operation,
   * a bad option, or a value as {@link enqueue} does.
   */
  async enqueueIn(
    atomic: KvStoreAtomic,
    value: T,
    options?: QueueEnqueueOptions,
  ): Promise<QueueEnqueueInResult> {
    if (!isAtomic(atomic)) {
      throw new TypeError(
        `enqueueIn: atomic must be an atomic operation (kv.atomic()): received ${
          show(atomic)
        }`,
      );
    }
    const o = resolveEnqueueOptions(options);
    const payload = payloadOf(value);
    const native = await this.#nativeQueue(true);
    if (native !== null) {
      if (!(atomic instanceof AtomicOperation)) {
        throw new TypeError(
          `enqueueIn: atomic must be an atomic operation of kvq's Kv (kv.atomic()) for a queue its engine keeps: received ${
            show(atomic)
          }`,
        );
      }
      // Answered before the commit, so a duplicate is looked up now; one
      // that appears before the commit fails it, as a check would.
      return await inTurn(atomic, async () => {
        const m = await native.message(payload, o, true);
        if (m.dedup !== undefined) {
          const first = riderWith(atomic, this.name, m.dedup[0]) ??
            await native.dedupOf(m.dedup[0]);
          if (first !== null) return { id: first, duplicate: true };
        }
        ride(atomic, m);
        return { id: m.id, duplicate: false };
      });
    }
    return await enqueueInto(
      this.#kv,
      atomic,
      this.#layout,
      this.#config,
      o,
      payload,
    );
  }

  /**
   * Enqueues the typed message `{ type, data }` (danet's shape), for a
   * listener with one handler per type.
   */
  async send(
    type: string,
    data?: unknown,
    options?: QueueEnqueueOptions,
  ): Promise<QueueEnqueueResult> {
    if (typeof type !== "string" || type.length === 0) {
      throw new TypeError("send: type must be a non-empty string");
    }
    return await this.enqueue({ type, data } as T, options);
  }

  /**
   * Delivers the queue's messages until the signal aborts or
   * {@link close}: to `handler(value, info)`, or, given an object of
   * handlers by type, to `handlers[message.type](message.data, info)`.
   * A handler that throws, rejects or runs past `timeoutMs` fails the
   * attempt: it is retried after a growing wait, and after `maxAttempts`
   * (or at once for a `noRetry` error) the message becomes a dead letter.
   * Messages of one ordering group reach handlers one at a time, in
   * enqueue order. Throws TypeError for a bad handler or option.
   */
  async listen(
    handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
    options?: QueueListenOptions,
  ): Promise<void> {
    if (typeof handler !== "function") checkHandlers("listen", handler);
    const o = resolveListenOptions(options, this.#config.concurrency);
    if (this.#closed) throw new Error(`queue "${this.name}" is closed`);
    if (o.signal?.aborted) return;
    const native = await this.#nativeQueue(true);
    if (native !== null) {
      return await this.#listenNative(native, handler, o.concurrency, o.signal);
    }
    const stopped = new AbortController();
    const listener: Listener = {
      handler,
      concurrency: o.concurrency,
      running: 0,
      run: this.#runner(handler, stopped.signal),
    };
    let end!: () => void;
    const ended = new Promise<void>((resolve) => end = resolve);
    const stop = () => {
      stopped.abort(new DOMException("The listener stopped", "AbortError"));
      end();
    };
    const onAbort = () => {
      stopped.abort(new DOMException("The listener stopped", "AbortError"));
      this.#consumer.remove(listener).then(end);
    };
    o.signal?.addEventListener("abort", onAbort, { once: true });
    this.#stops.add(stop);
    this.#consumer.add(listener);
    try {
      await ended;
    } finally {
      o.signal?.removeEventListener("abort", onAbort);
      this.#stops.delete(stop);
    }
  }

  async #listenNative(
    native: NativeQueue,
    handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
    concurrency: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const stopped = new AbortController();
    const stop = () =>
      stopped.abort(new DOMException("The listener stopped", "AbortError"));
    signal?.addEventListener("abort", stop, { once: true });
    this.#stops.add(stop);
    try {
      await native.listen(handler, concurrency, stopped.signal);
    } finally {
      signal?.removeEventListener("abort", stop);
      this.#stops.delete(stop);
    }
  }

  #runner(
    handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
    stopped: AbortSignal,
  ): RunDelivery {
    const name = this.name;
    const timeouts = new Timeouts(this.#config.timeoutMs);
    return async (lease, payload, finish) => {
      const named = lease.record.named;
      const result = await attempt(
        handler,
        payload,
        {
          id: lease.id,
          queue: name,
          attempt: lease.record.attempts + 1,
          enqueuedAt: new Date(named?.enqueuedAt ?? idTime(lease.id)),
          group: named?.group ?? null,
          seq: named?.seq ?? null,
        },
        this.#config,
        stopped,
        timeouts,
      );
      if (result.ok) finish("ok");
      else finish("failed", result.error);
    };
  }

  /**
   * Stops this handle's listeners at once (their promises resolve, their
   * running handlers' signals abort) and stops renewing leases; does not
   * close the store. Messages still running come back after `leaseMs`,
   * as a failed attempt. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#consumer.stop();
    this.#leases.stop();
    for (const stop of this.#stops) stop();
    this.#stops.clear();
  }

  /** Counts of the queue's messages by state: {@link admin.counts}. */
  async counts(): Promise<admin.QueueCounts> {
    const native = await this.#nativeQueue();
    if (native !== null) return await native.counts();
    return await admin.counts(this.#kv, this.#layout);
  }

  /** The next messages to be delivered: {@link admin.peek}. */
  async peek(options?: { limit?: number }): Promise<admin.QueueMessage[]> {
    const native = await this.#nativeQueue();
    if (native !== null) {
      return await native.peek(admin.limitOf("peek", options, 10));
    }
    return await admin.peek(this.#kv, this.#layout, options);
  }

  /** Cancels a pending message: {@link repair.cancel}. */
  async cancel(id: string): Promise<boolean> {
    const native = await this.#nativeQueue();
    if (native !== null) {
      return await native.cancel(admin.checkId("cancel", id));
    }
    return await repair.cancel(this.#kv, this.#layout, id);
  }

  /** The dead letters: {@link admin.deadLetters}. */
  async deadLetters(
    options?: { limit?: number },
  ): Promise<admin.DeadLetter[]> {
    const native = await this.#nativeQueue();
    if (native !== null) {
      return await native.deadLetters(
        admin.limitOf("deadLetters", options, 100),
      );
    }
    return await admin.deadLetters(this.#kv, this.#layout, options);
  }

  /** Enqueues dead letters again: {@link repair.redrive}. */
  async redrive(ids?: string[]): Promise<number> {
    const native = await this.#nativeQueue();
    if (native !== null) return await native.redrive(repair.checkIds(ids));
    return await repair.redrive(this.#kv, this.#layout, this.#config, ids);
  }

  /** Deletes pending messages (and dead letters): {@link repair.purge}. */
  async purge(options?: { dead?: boolean }): Promise<number> {
    const native = await this.#nativeQueue();
    if (native !== null) return await native.purge(repair.deadOption(options));
    return await repair.purge(this.#kv, this.#layout, options);
  }

  /** Counts, rates and lag: {@link admin.stats}. */
  async stats(options?: { intervalMs?: number }): Promise<admin.QueueStats> {
    const native = await this.#nativeQueue();
    if (native !== null) {
      return await native.stats(admin.intervalOf(options));
    }
    return await admin.stats(this.#kv, this.#layout, options);
  }
}
