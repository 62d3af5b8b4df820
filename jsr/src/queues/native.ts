/**
 * A named queue kept in the engine (kvq-core's engine/named.rs): on kvq's
 * own SQLite files and Postgres stores, messages, ordering groups, dedup
 * windows, dead letters and counters live in the backend's tables, and a
 * claim, an acknowledgement or a group's move to its next message is a
 * row update inside the engine's batched transactions. {@link NamedQueue}
 * (queue.ts) uses it wherever the store has it, and the queue made of keys
 * elsewhere (KV Connect, Deno's own `Deno.openKv`).
 *
 * @module
 */

import { newId } from "../kvqueue/layout.ts";
import { type NamedMeta, QueueListener } from "../queue.ts";
import { fromHex } from "../inspect.ts";
import { type KvState, stateOf } from "../state.ts";
import { checkReply } from "../transport.ts";
import { deserializePayload } from "../value.ts";
import type { Verdict } from "../wire.ts";
import {
  encodeNamedWrite,
  type NativeEnqueue,
  sendNamedWrite,
} from "../named_write.ts";
import type {
  DeadLetter,
  QueueCounts,
  QueueMessage,
  QueueStats,
} from "./admin.ts";
import {
  attempt,
  type AttemptResult,
  type MessageHandler,
  type MessageInfo,
  Timeouts,
} from "./attempt.ts";
import type { TypedHandlers } from "./dispatch.ts";
import { errorText } from "./errors.ts";
import type { QueueConfig } from "./options.ts";
import { retryDelay } from "./outcomes.ts";
import { payloadHash } from "./enqueue.ts";

const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

// One probe per store: whether it keeps named queues in the engine.
const probes = new WeakMap<KvState, Promise<boolean>>();

/** Whether `s`'s store keeps named queues in the engine. */
export function hasNativeQueues(s: KvState): Promise<boolean> {
  let probe = probes.get(s);
  if (probe === undefined) {
    probe = probeNative(s);
    probes.set(s, probe);
    // A failed probe (a closed store) is asked again next time.
    probe.catch(() => probes.delete(s));
  }
  return probe;
}

async function probeNative(s: KvState): Promise<boolean> {
  if (s.transport.writeNamed === undefined) return false;
  try {
    await admin(s, { op: "queues" });
    return true;
  } catch (error) {
    if ((error as { code?: string })?.code === "KVQ_UNSUPPORTED") return false;
    throw error;
  }
}

/**
 * The names of the named queues `kv` keeps in its engine (with any
 * message, dead letter or count); none for a store without such queues.
 */
export async function engineQueueNames(kv: unknown): Promise<string[]> {
  const s = stateOf(kv);
  if (s === undefined || !(await hasNativeQueues(s))) return [];
  return (await admin(s, { op: "queues" })).queues as string[];
}

/**
 * The named queues `kv` keeps in its engine that hold messages or dead
 * letters, with how many.
 */
export async function engineBacklog(
  kv: unknown,
): Promise<{ name: string; messages: number }[]> {
  const names = await engineQueueNames(kv);
  const out = [];
  for (const name of names) {
    const a = await admin(stateOf(kv)!, { op: "counts", queue: name });
    const messages = (a.counts as number[]).reduce((x, y) => x + y, 0);
    if (messages > 0) out.push({ name, messages });
  }
  return out;
}

/** A named queue's management request (wire_inspect.rs). */
export async function admin(
  s: KvState,
  request: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  s.ensureOpen();
  const body = utf8Out.encode(JSON.stringify({ named: request }));
  const reply = checkReply(await s.transport.inspect!(s.store, body));
  const answer = JSON.parse(utf8.decode(reply.subarray(1)));
  return answer.named as Record<string, unknown>;
}

function decode(hex: string): unknown {
  const bytes = fromHex(hex);
  try {
    return deserializePayload(bytes);
  } catch {
    return bytes;
  }
}

interface Row {
  id: string;
  state: "ready" | "delayed" | "waiting" | "dead";
  due: number;
  enqueuedAt: number;
  attempts: number;
  group: string | null;
  seq: number | null;
  lastError: string | null;
  payload: string;
}

/** The engine side of one named queue of one store. */
export class NativeQueue {
  #s: KvState;
  #name: string;
  #queue: Uint8Array;
  #config: QueueConfig;

  /** Queue `name` of the store `s`, with `config`. */
  constructor(s: KvState, name: string, config: QueueConfig) {
    this.#s = s;
    this.#name = name;
    this.#queue = utf8Out.encode(name);
    this.#config = config;
  }

  /** A message to store, with its id and dedup window. */
  async message(
    payload: Uint8Array,
    o: { delay: number; group?: string; dedupId?: string },
    unique: boolean,
  ): Promise<NativeEnqueue> {
    this.#s.ensureOpen();
    const now = Date.now();
    const dedupId = o.dedupId ??
      (this.#config.deduplicate ? await payloadHash(payload) : undefined);
    return {
      queue: this.#name,
      id: newId(),
      payload,
      due: now + o.delay,
      group: o.group,
      dedup: dedupId === undefined
        ? undefined
        : [dedupId, now + this.#config.dedupWindowMs],
      maxAttempts: this.#config.maxAttempts,
      enqueuedAt: now,
      unique,
    };
  }

  /** Stores one message: its id, or the first one's for a duplicate. */
  async enqueue(
    payload: Uint8Array,
    o: { delay: number; group?: string; dedupId?: string },
  ): Promise<
    { ok: true; versionstamp: string; id: string; duplicate: boolean }
  > {
    const m = await this.message(payload, o, false);
    const done = await sendNamedWrite(this.#s, encodeNamedWrite(null, [m]));
    if (done === null) throw new Error("a named enqueue without checks failed");
    const first = done.duplicates[0];
    if (first === null) {
      return {
        ok: true,
        versionstamp: done.versionstamp,
        id: m.id,
        duplicate: false,
      };
    }
    return { ok: true, ...first, duplicate: true };
  }

  /** The id holding `dedupId`'s window now, if any. */
  async dedupOf(dedupId: string): Promise<string | null> {
    const a = await admin(this.#s, {
      op: "dedup",
      queue: this.#name,
      dedupId,
    });
    return (a.dedup as string | null) ?? null;
  }

  /** Throws `BadResource` as every call does once the store is closed. */
  ensureOpen(): void {
    this.#s.ensureOpen();
  }

  /**
   * Delivers messages to `handler` until `signal` aborts (or the store
   * closes), `concurrency` at a time; a failure is retried after the
   * queue's backoff or, past `maxAttempts` or for a `noRetry` error,
   * becomes a dead letter.
   */
  async listen<T>(
    handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
    concurrency: number,
    signal: AbortSignal,
  ): Promise<void> {
    this.#s.ensureOpen();
    const config = this.#config;
    const name = this.#name;
    const timeouts = new Timeouts(config.timeoutMs);
    const verdict = (n: number, result: AttemptResult): Verdict | null => {
      if (result.ok) return null;
      const error = errorText(result.error);
      if (n >= config.maxAttempts || config.noRetry(result.error)) {
        return { error };
      }
      return { at: Date.now() + retryDelay(config, n), error };
    };
    const run = (payload: Uint8Array, meta: NamedMeta) => {
      const n = meta.attempts + 1;
      const result = attempt(
        handler,
        payload,
        {
          id: meta.id,
          queue: name,
          attempt: n,
          enqueuedAt: new Date(meta.enqueuedAt),
          group: meta.group,
          seq: meta.seq,
        },
        config,
        signal,
        timeouts,
      );
      return result instanceof Promise
        ? result.then((r) => verdict(n, r))
        : verdict(n, result);
    };
    const listener = new QueueListener(this.#s, handler, concurrency, signal, {
      queue: this.#queue,
      leaseMs: config.engine.leaseMs ?? 0,
      run,
    });
    await listener.run();
  }

  /** Counts by state. */
  async counts(): Promise<QueueCounts> {
    const a = await admin(this.#s, { op: "counts", queue: this.#name });
    const [ready, delayed, waiting, running, dead] = a.counts as number[];
    return { ready, delayed, waiting, running, dead };
  }

  /** The next pending messages. */
  async peek(limit: number): Promise<QueueMessage[]> {
    const a = await admin(this.#s, { op: "peek", queue: this.#name, limit });
    return (a.messages as Row[]).map((m) => ({
      id: m.id,
      state: m.state as QueueMessage["state"],
      value: decode(m.payload),
      dueAt: new Date(m.due),
      enqueuedAt: new Date(m.enqueuedAt),
      attempts: m.attempts,
      group: m.group,
      seq: m.seq,
      lastError: m.lastError,
    }));
  }

  /** The dead letters. */
  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const a = await admin(this.#s, { op: "dead", queue: this.#name, limit });
    return (a.messages as Row[]).map((m) => ({
      id: m.id,
      value: decode(m.payload),
      attempts: m.attempts,
      lastError: m.lastError ?? "",
      failedAt: new Date(m.due),
      enqueuedAt: new Date(m.enqueuedAt),
      group: m.group,
      seq: m.seq,
    }));
  }

  /** Cancels a pending message. */
  async cancel(id: string): Promise<boolean> {
    const a = await admin(this.#s, { op: "cancel", queue: this.#name, id });
    return a.changed === 1;
  }

  /** Redrives dead letters (those of `ids`, or all). */
  async redrive(ids: string[] | undefined): Promise<number> {
    const a = await admin(this.#s, {
      op: "redrive",
      queue: this.#name,
      ids: ids ?? null,
    });
    return a.changed as number;
  }

  /** Deletes pending messages, and dead letters with `dead`. */
  async purge(dead: boolean): Promise<number> {
    const a = await admin(this.#s, { op: "purge", queue: this.#name, dead });
    return a.changed as number;
  }

  /** Counts, totals, rates over `intervalMs`, lag. */
  async stats(intervalMs: number): Promise<QueueStats> {
    const totals = async () => {
      const a = await admin(this.#s, { op: "totals", queue: this.#name });
      const [enqueued, acked, retried, dead] = a.totals as number[];
      return {
        totals: { enqueued, acked, retried, dead },
        oldest: a.oldestDue as number | null,
      };
    };
    const before = await totals();
    const t0 = Date.now();
    if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    const [after, counts] = await Promise.all([totals(), this.counts()]);
    const seconds = Math.max(1, Date.now() - t0) / 1000;
    const rate = (k: keyof typeof after.totals) =>
      intervalMs > 0 ? (after.totals[k] - before.totals[k]) / seconds : 0;
    const now = Date.now();
    return {
      counts,
      totals: after.totals,
      rates: {
        enqueued: rate("enqueued"),
        acked: rate("acked"),
        retried: rate("retried"),
        dead: rate("dead"),
      },
      lagMs: after.oldest === null ? 0 : Math.max(0, now - after.oldest),
      intervalMs,
    };
  }
}
