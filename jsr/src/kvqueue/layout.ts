/**
 * Where the queue keeps its state in the store, and the records it writes
 * there. docs/queues-on-kv.md describes the same layout for operators; any
 * implementation that shares a queue with this one (kvq's KV Connect
 * backend included) must follow it exactly.
 *
 * Under the prefix P (default `["__kvq", "q"]`):
 *
 * - `[...P, "m", id]`: the message body, the payload's V8 bytes as a
 *   Uint8Array. Written by the enqueue, deleted by the acknowledgement or
 *   the dead-lettering. It never changes in between.
 * - `[...P, "r", dueMs, id]`: the message is ready (due at `dueMs`, epoch
 *   ms). Value: a {@link ReadyRecord}. Keys sort by due time, then by id,
 *   which sorts by enqueue time and, within a process, enqueue order.
 * - `[...P, "l", expiresMs, id]`: the message is leased until `expiresMs`.
 *   Value: a {@link LeaseRecord}. Renewal moves the key to a later expiry.
 * - `[...P, "w"]`: a KvU64 that every write making a message ready bumps in
 *   the same commit; listeners watch it.
 *
 * A message is at every moment under exactly one `r` or `l` key, or gone
 * (acknowledged or dead-lettered); each move is one atomic operation
 * guarded by a versionstamp check on the key it leaves.
 *
 * @module
 */

import type { KvKey } from "../types.ts";

/** The default key prefix of a queue. */
export const DEFAULT_PREFIX: KvKey = Object.freeze(["__kvq", "q"]);

/** Deno's default backoff schedule: five retries, six attempts in all. */
export const DEFAULT_BACKOFF: readonly number[] = Object.freeze([
  100,
  1000,
  5000,
  30000,
  60000,
]);

/** The value of a ready key: what a delivery needs besides the payload. */
export interface ReadyRecord {
  /** Delivery attempts already made (0 for a new message). */
  attempts: number;
  /** The waits before the remaining retries, in ms; `[]`: no retry left. */
  backoffSchedule: number[];
  /** The keys that receive the value when no attempt is left. */
  keysIfUndelivered: KvKey[];
  /** A named queue's message metadata (jsr/src/queues); absent otherwise. */
  named?: NamedFields;
}

/**
 * What a message of a named queue carries besides Deno's fields
 * (jsr/src/queues, docs/queues-on-kv.md).
 */
export interface NamedFields {
  /** When it was first enqueued (epoch ms). */
  enqueuedAt: number;
  /** Its ordering group, if any. */
  group?: string;
  /** Its sequence number in the group (1, 2, …), with a group. */
  seq?: number;
  /** Its deduplication id, if any. */
  dedupId?: string;
  /** The error of its last failed attempt, as text. */
  lastError?: string;
}

/** The value of a lease key: the ready record, its due time and holder. */
export interface LeaseRecord extends ReadyRecord {
  /** The due time of the ready key the claim took (to put it back). */
  dueMs: number;
  /** The holder's random id, for operators; not used for decisions. */
  owner: string;
}

/** The keys of one queue, built from its prefix. */
export class Layout {
  /** The queue's prefix. */
  readonly prefix: KvKey;
  /** The prefix of every ready key. */
  readonly readyPrefix: KvKey;
  /** The prefix of every lease key. */
  readonly leasePrefix: KvKey;
  /** The key every enqueue and retry bumps, and listeners watch. */
  readonly wakeKey: KvKey;

  /** The layout under `prefix`. */
  constructor(prefix: KvKey) {
    this.prefix = [...prefix];
    this.readyPrefix = [...prefix, "r"];
    this.leasePrefix = [...prefix, "l"];
    this.wakeKey = [...prefix, "w"];
  }

  /** The body key of message `id`. */
  payload(id: string): KvKey {
    return [...this.prefix, "m", id];
  }

  /** The ready key of message `id`, due at `dueMs`. */
  ready(dueMs: number, id: string): KvKey {
    return [...this.prefix, "r", dueMs, id];
  }

  /** The lease key of message `id`, leased until `expiresMs`. */
  lease(expiresMs: number, id: string): KvKey {
    return [...this.prefix, "l", expiresMs, id];
  }

  /**
   * The time and id of a ready or lease key read back from the store, or
   * null for a key that is not of this layout.
   */
  parse(key: KvKey): { ms: number; id: string } | null {
    const n = this.prefix.length;
    if (key.length !== n + 3) return null;
    const ms = key[n + 1];
    const id = key[n + 2];
    if (typeof ms !== "number" || typeof id !== "string") return null;
    return { ms, id };
  }
}

/**
 * The record in a stored value, or null when the value is not one (a key
 * written by something else under the queue's prefix: skipped, not fatal).
 */
export function readyRecord(value: unknown): ReadyRecord | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Partial<ReadyRecord>;
  if (
    typeof v.attempts !== "number" || !Array.isArray(v.backoffSchedule) ||
    !Array.isArray(v.keysIfUndelivered)
  ) return null;
  const record: ReadyRecord = {
    attempts: v.attempts,
    backoffSchedule: v.backoffSchedule,
    keysIfUndelivered: v.keysIfUndelivered,
  };
  if (typeof v.named === "object" && v.named !== null) record.named = v.named;
  return record;
}

/** {@link readyRecord} for a lease value. */
export function leaseRecord(value: unknown): LeaseRecord | null {
  const r = readyRecord(value);
  const v = value as Partial<LeaseRecord>;
  if (r === null || typeof v.dueMs !== "number") return null;
  return { ...r, dueMs: v.dueMs, owner: String(v.owner) };
}

// ----- ids -----

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

let lastMs = 0;
const tail = new Uint8Array(10);

/**
 * A new message id: 12 hex digits of the enqueue time in ms, then 20 of
 * randomness, incremented (not redrawn) within one millisecond so that ids
 * of one process sort in the order they were made. Unique across processes
 * by its 80 random bits.
 */
export function newId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    crypto.getRandomValues(tail);
    // Room to count up within the millisecond without wrapping.
    tail[0] &= 0x7f;
  } else {
    for (let i = tail.length - 1; i >= 0; i--) {
      tail[i] = (tail[i] + 1) & 0xff;
      if (tail[i] !== 0) break;
    }
  }
  return lastMs.toString(16).padStart(12, "0") + hex(tail);
}

/** A random id for one queue instance, written into its leases. */
export function newOwnerId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(8)));
}
