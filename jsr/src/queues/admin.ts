/**
 * Looking into a named queue: counts by state, peek, dead letters, live
 * statistics and the list of queues, all read from the queue's keys
 * (layout.ts), so they work from any process on any store, while
 * listeners run. The changes (cancel, redrive, purge) are in repair.ts. The `kvq queues` command (jsr/src/cli/queues.ts) prints
 * them.
 *
 * Counting and peeking read every key of the state they count: they cost
 * one list per state, proportional to the queue's length.
 *
 * @module
 */

import type { KvEntry, KvKey } from "../types.ts";
import { readyRecord } from "../kvqueue/layout.ts";
import type { KvStore } from "../kvqueue/types.ts";
import { deserializePayload } from "../value.ts";
import { collect } from "./groups.ts";
import {
  type DeadRecord,
  idTime,
  type NamedLayout,
  type QueueCounter,
  QUEUES_PREFIX,
  type WaitingRecord,
} from "./layout.ts";
import { numberOption } from "./options.ts";
import { engineQueueNames } from "./native.ts";

/** How many messages of a queue are in each state. */
export interface QueueCounts {
  /** Due now, waiting for a listener. */
  ready: number;
  /** Due later (a delay, or a retry's wait). */
  delayed: number;
  /** Behind the head of their ordering group. */
  waiting: number;
  /** Held by a handler now (leased). */
  running: number;
  /** Dead letters. */
  dead: number;
}

/** A pending message, as {@link peek} shows it. */
export interface QueueMessage {
  /** The message id. */
  id: string;
  /** "ready", "delayed" or "waiting" (behind its group's head). */
  state: "ready" | "delayed" | "waiting";
  /** The value. */
  value: unknown;
  /** When it is (or was) due. */
  dueAt: Date;
  /** When it was enqueued. */
  enqueuedAt: Date;
  /** Attempts already made. */
  attempts: number;
  /** Its ordering group, or null. */
  group: string | null;
  /** Its sequence number in the group, or null. */
  seq: number | null;
  /** The error of its last failed attempt, or null. */
  lastError: string | null;
}

/** A dead letter, as {@link deadLetters} shows it. */
export interface DeadLetter {
  /** The message id. */
  id: string;
  /** The value. */
  value: unknown;
  /** Attempts made. */
  attempts: number;
  /** The error of the last attempt. */
  lastError: string;
  /** When it became a dead letter. */
  failedAt: Date;
  /** When it was enqueued. */
  enqueuedAt: Date;
  /** Its ordering group, or null. */
  group: string | null;
  /** Its sequence number in the group, or null. */
  seq: number | null;
}

/** Counts, totals, rates and lag of a queue. */
export interface QueueStats {
  /** Messages by state. */
  counts: QueueCounts;
  /** Counters since the queue was first used. */
  totals: Record<QueueCounter, number>;
  /** Messages per second over the sampling interval. */
  rates: Record<QueueCounter, number>;
  /** How long the oldest ready message has been due, in ms (0: none). */
  lagMs: number;
  /** The sampling interval, in ms. */
  intervalMs: number;
}

const COUNTERS: QueueCounter[] = ["enqueued", "acked", "retried", "dead"];

function decode(bytes: unknown): unknown {
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    return deserializePayload(bytes);
  } catch {
    return bytes;
  }
}

/** Every entry under `prefix`. */
export async function all(
  kv: KvStore,
  prefix: KvKey,
): Promise<KvEntry<unknown>[]> {
  return await collect(kv.list({ prefix }, { batchSize: 500 }));
}

/** Counts the messages of the queue at `layout` by state. */
export async function counts(
  kv: KvStore,
  layout: NamedLayout,
): Promise<QueueCounts> {
  const now = Date.now();
  const [ready, waiting, running, dead] = await Promise.all([
    all(kv, layout.readyPrefix),
    all(kv, layout.waitingPrefix),
    all(kv, layout.leasePrefix),
    all(kv, layout.deadPrefix),
  ]);
  const due = ready.filter((e) => (layout.parse(e.key)?.ms ?? 0) <= now);
  return {
    ready: due.length,
    delayed: ready.length - due.length,
    waiting: waiting.length,
    running: running.length,
    dead: dead.length,
  };
}

/** The `limit` option of `where`, checked; `fallback` when absent. */
export function limitOf(
  where: string,
  options: unknown,
  fallback: number,
): number {
  const o = (options ?? {}) as { limit?: unknown };
  return numberOption(where, "limit", o.limit, 1, 100_000, fallback);
}

/**
 * The next `limit` (default 10) pending messages in delivery order (ready
 * and delayed by due time, then those waiting behind a group's head), with
 * their values. Nothing is claimed.
 */
export async function peek(
  kv: KvStore,
  layout: NamedLayout,
  options?: { limit?: number },
): Promise<QueueMessage[]> {
  const limit = limitOf("peek", options, 10);
  const now = Date.now();
  const out: (QueueMessage & { body: KvKey })[] = [];
  for await (const e of kv.list({ prefix: layout.readyPrefix }, { limit })) {
    const parsed = layout.parse(e.key);
    const record = readyRecord(e.value);
    if (parsed === null || record === null) continue;
    out.push(
      message(
        parsed.id,
        parsed.ms <= now ? "ready" : "delayed",
        parsed.ms,
        record,
        layout,
      ),
    );
  }
  if (out.length < limit) {
    const it = kv.list({ prefix: layout.waitingPrefix }, {
      limit: limit - out.length,
    });
    for await (const e of it) {
      const w = e.value as WaitingRecord;
      const record = readyRecord(w?.record);
      if (record === null) continue;
      out.push(message(w.id, "waiting", w.dueMs, record, layout));
    }
  }
  const bodies = await getAll(kv, out.map((m) => m.body));
  return out.map(({ body: _, ...m }, i) => ({
    ...m,
    value: decode(bodies[i]),
  }));
}

function message(
  id: string,
  state: QueueMessage["state"],
  dueMs: number,
  record: NonNullable<ReturnType<typeof readyRecord>>,
  layout: NamedLayout,
): QueueMessage & { body: KvKey } {
  return {
    id,
    state,
    value: undefined,
    dueAt: new Date(dueMs),
    enqueuedAt: new Date(record.named?.enqueuedAt ?? idTime(id)),
    attempts: record.attempts,
    group: record.named?.group ?? null,
    seq: record.named?.seq ?? null,
    lastError: record.named?.lastError ?? null,
    body: layout.payload(id),
  };
}

async function getAll(kv: KvStore, keys: KvKey[]): Promise<unknown[]> {
  const reads = [];
  for (let i = 0; i < keys.length; i += 10) {
    reads.push(kv.getMany(keys.slice(i, i + 10)));
  }
  return (await Promise.all(reads)).flat().map((e) => e.value);
}

/** Checks a message id; TypeError naming `where`. */
export function checkId(where: string, id: unknown): string {
  if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) {
    throw new TypeError(
      `${where}: id must be a message id (32 lowercase hex digits): received ${
        typeof id === "string" ? JSON.stringify(id) : String(id)
      }`,
    );
  }
  return id;
}

/** The dead letters, oldest id first, at most `limit` (default 100). */
export async function deadLetters(
  kv: KvStore,
  layout: NamedLayout,
  options?: { limit?: number },
): Promise<DeadLetter[]> {
  const limit = limitOf("deadLetters", options, 100);
  const out: DeadLetter[] = [];
  for await (const e of kv.list({ prefix: layout.deadPrefix }, { limit })) {
    const d = e.value as DeadRecord;
    const id = e.key[e.key.length - 1] as string;
    out.push({
      id,
      value: decode(d?.payload),
      attempts: d?.attempts ?? 0,
      lastError: d?.lastError ?? "",
      failedAt: new Date(d?.failedAt ?? 0),
      enqueuedAt: new Date(d?.record?.named?.enqueuedAt ?? idTime(id)),
      group: d?.record?.named?.group ?? null,
      seq: d?.record?.named?.seq ?? null,
    });
  }
  return out;
}

/** The `intervalMs` option of `stats`, checked (default 1000). */
export function intervalOf(options?: { intervalMs?: number }): number {
  return numberOption(
    "stats",
    "intervalMs",
    (options ?? {}).intervalMs,
    0,
    3_600_000,
    1000,
  );
}

async function readCounters(
  kv: KvStore,
  layout: NamedLayout,
): Promise<Record<QueueCounter, number>> {
  const read = await kv.getMany(COUNTERS.map((c) => layout.counter(c)));
  return Object.fromEntries(COUNTERS.map((c, i) => {
    const v = read[i].value as { value?: bigint } | null;
    return [c, v?.value === undefined ? 0 : Number(v.value)];
  })) as Record<QueueCounter, number>;
}

/**
 * Counts, totals and rates (per second, sampled over `intervalMs`,
 * default 1000), and the lag: how long the oldest ready message has been
 * due.
 */
export async function stats(
  kv: KvStore,
  layout: NamedLayout,
  options?: { intervalMs?: number },
): Promise<QueueStats> {
  const intervalMs = intervalOf(options);
  const before = await readCounters(kv, layout);
  const t0 = Date.now();
  if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
  const [after, c, oldest] = await Promise.all([
    readCounters(kv, layout),
    counts(kv, layout),
    collect(kv.list({ prefix: layout.readyPrefix }, { limit: 1 })),
  ]);
  const seconds = Math.max(1, Date.now() - t0) / 1000;
  const now = Date.now();
  const due = oldest.length > 0 ? layout.parse(oldest[0].key)?.ms ?? now : now;
  return {
    counts: c,
    totals: after,
    rates: Object.fromEntries(
      COUNTERS.map((
        k,
      ) => [k, intervalMs > 0 ? (after[k] - before[k]) / seconds : 0]),
    ) as Record<QueueCounter, number>,
    lagMs: Math.max(0, now - due),
    intervalMs,
  };
}

/**
 * The names of the named queues of `kv`, sorted: those the store keeps in
 * its engine (a SQLite file, Postgres: native.ts) and those kept as keys
 * (with any key: one list read per queue).
 */
export async function listQueues(kv: KvStore): Promise<string[]> {
  const names = new Set([
    ...await keyQueues(kv),
    ...await engineQueueNames(kv),
  ]);
  return [...names].sort();
}

/** The named queues of `kv` kept as keys, in key order. */
async function keyQueues(kv: KvStore): Promise<string[]> {
  const names: string[] = [];
  let start: KvKey | null = null;
  for (;;) {
    const [next]: KvEntry<unknown>[] = await collect(
      kv.list(
        start === null
          ? { prefix: QUEUES_PREFIX }
          : { prefix: QUEUES_PREFIX, start },
        { limit: 1 },
      ),
    );
    const name: unknown = next?.key[QUEUES_PREFIX.length];
    if (typeof name !== "string") return names;
    names.push(name);
    // The smallest key after every key of this queue.
    start = [...QUEUES_PREFIX, name + "\0"];
  }
}
