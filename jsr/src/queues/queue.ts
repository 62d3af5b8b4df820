/**
 * {@link NamedQueue}: a handle on one named queue of a store, built on
 * kvqueue's KV-only engine (jsr/src/kvqueue), so it works on every store
 * with the `Deno.Kv` KV surface: kvq's `openKv` (SQLite, Postgres, KV
 * Connect), Deno's own `Deno.openKv` and Deno Deploy's KV.
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
import { deserializePayload } from "../value.ts";
import * as admin from "./admin.ts";
import * as repair from "./repair.ts";
import {
  checkHandlers,
  dispatchTyped,
  type TypedHandlers,
} from "./dispatch.ts";
import {
  enqueueInto,
  enqueueNamed,
  isAtomic,
  payloadOf,
  type QueueEnqueueInResult,
  type QueueEnqueueResult,
} from "./enqueue.ts";
import { errorText, QueueTimeoutError } from "./errors.ts";
import { idTime, NamedLayout } from "./layout.ts";
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

/** What a handler learns about the delivery, its second argument. */
export interface MessageInfo {
  /** The message id (what the enqueue returned). */
  id: string;
  /** The queue's name. */
  queue: string;
  /** This attempt's number: 1 for the first delivery. */
  attempt: number;
  /** When the message was enqueued. */
  enqueuedAt: Date;
  /** Its ordering group, or null. */
  group: string | null;
  /** Its sequence number in the group (1, 2, …), or null. */
  seq: number | null;
  /**
   * Aborts when the attempt's timeout passes (reason: a
   * {@link QueueTimeoutError}) or the listener stops.
   */
  signal: AbortSignal;
}

/** A handler of a named queue: the message's value and its metadata. */
export type MessageHandler<T = unknown> = (
  value: T,
  info: MessageInfo,
) => unknown;

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

  #runner(
    handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
    stopped: AbortSignal,
  ): RunDelivery {
    const name = this.name;
    const { timeoutMs, maxAttempts } = this.#config;
    return async (lease, payload, finish) => {
      const named = lease.record.named;
      const attempt = lease.record.attempts + 1;
      const controller = new AbortController();
      const onStop = () => controller.abort(stopped.reason);
      stopped.addEventListener("abort", onStop, { once: true });
      const info: MessageInfo = {
        id: lease.id,
        queue: name,
        attempt,
        enqueuedAt: new Date(named?.enqueuedAt ?? idTime(lease.id)),
        group: named?.group ?? null,
        seq: named?.seq ?? null,
        signal: controller.signal,
      };
      const report = (error: unknown) =>
        console.error(
          `kvq queue "${name}": message ${lease.id} failed (attempt ${attempt} of ${maxAttempts}): ${
            errorText(error)
          }`,
        );
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        const error = new QueueTimeoutError(name, lease.id, timeoutMs);
        controller.abort(error);
        report(error);
        finish("failed", error);
      }, timeoutMs);
      try {
        const value = deserializePayload(payload) as T;
        if (typeof handler === "function") {
          await handler(value, info);
        } else {
          await dispatchTyped(handler, value, info, `queue "${name}"`);
        }
        finish("ok");
      } catch (error) {
        if (!timedOut) report(error);
        finish("failed", error);
      } finally {
        clearTimeout(timer);
        stopped.removeEventListener("abort", onStop);
      }
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
  counts(): Promise<admin.QueueCounts> {
    return admin.counts(this.#kv, this.#layout);
  }

  /** The next messages to be delivered: {@link admin.peek}. */
  peek(options?: { limit?: number }): Promise<admin.QueueMessage[]> {
    return admin.peek(this.#kv, this.#layout, options);
  }

  /** Cancels a pending message: {@link repair.cancel}. */
  cancel(id: string): Promise<boolean> {
    return repair.cancel(this.#kv, this.#layout, id);
  }

  /** The dead letters: {@link admin.deadLetters}. */
  deadLetters(options?: { limit?: number }): Promise<admin.DeadLetter[]> {
    return admin.deadLetters(this.#kv, this.#layout, options);
  }

  /** Enqueues dead letters again: {@link repair.redrive}. */
  redrive(ids?: string[]): Promise<number> {
    return repair.redrive(this.#kv, this.#layout, this.#config, ids);
  }

  /** Deletes pending messages (and dead letters): {@link repair.purge}. */
  purge(options?: { dead?: boolean }): Promise<number> {
    return repair.purge(this.#kv, this.#layout, options);
  }

  /** Counts, rates and lag: {@link admin.stats}. */
  stats(options?: { intervalMs?: number }): Promise<admin.QueueStats> {
    return admin.stats(this.#kv, this.#layout, options);
  }
}
