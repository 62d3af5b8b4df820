/**
 * The keys of one named queue. A named queue is a queue of kvqueue
 * (jsr/src/kvqueue: ready, lease, body and wake-up keys) under its own
 * prefix, plus the keys of the features named queues add: dead-letter
 * records, ordering groups, deduplication and counters.
 *
 * Under Q = `["__kvq", "queues", name]` (docs/queues-on-kv.md):
 *
 * - `[...Q, "m", id]`, `[...Q, "r", dueMs, id]`, `[...Q, "l", expiresMs,
 *   id]`, `[...Q, "w"]`: kvqueue's keys (layout.ts there);
 * - `[...Q, "d", id]`: a dead letter ({@link DeadRecord});
 * - `[...Q, "g", group]`: the state of an ordering group ({@link GroupState});
 * - `[...Q, "p", group, seq]`: a message waiting behind its group's head
 *   ({@link WaitingRecord});
 * - `[...Q, "u", dedupId]`: a deduplication entry ({@link DedupRecord}),
 *   written with `expireIn` = the window;
 * - `[...Q, "c", counter]`: KvU64 counters (enqueued, acked, retried, dead);
 * - `[...Q, "e"]`: on a store whose engine keeps named queues (kvq's SQLite
 *   and Postgres), the marker that this queue is kept there, not in keys
 *   (queue.ts); its only key then.
 *
 * @module
 */

import type { KvKey } from "../types.ts";
import { Layout, type ReadyRecord } from "../kvqueue/layout.ts";

/** The prefix under which every named queue lives. */
export const QUEUES_PREFIX: KvKey = Object.freeze(["__kvq", "queues"]);

/** The counters of a named queue. */
export type QueueCounter = "enqueued" | "acked" | "retried" | "dead";

/** The value of a dead-letter key. */
export interface DeadRecord {
  /** The message's V8 bytes. */
  payload: Uint8Array;
  /** Its record when it failed for the last time (metadata included). */
  record: ReadyRecord;
  /** The error of the last attempt, as text. */
  lastError: string;
  /** Attempts made. */
  attempts: number;
  /** When it was dead-lettered (epoch ms). */
  failedAt: number;
}

/** The value of a group's state key. */
export interface GroupState {
  /** The last sequence number given out in the group. */
  last: number;
  /** The sequence number of the group's head (ready or running). */
  head: number;
}

/** A message waiting behind its group's head. */
export interface WaitingRecord {
  /** The message id. */
  id: string;
  /** When it is due at the earliest (epoch ms). */
  dueMs: number;
  /** Its ready record, as it will be when it becomes the head. */
  record: ReadyRecord;
}

/** The value of a deduplication key. */
export interface DedupRecord {
  /** The id of the message enqueued first with this dedup id. */
  id: string;
  /** When the window ends (epoch ms); stores may return expired keys. */
  until: number;
}

/** The keys of one named queue. */
export class NamedLayout extends Layout {
  /** The queue's name. */
  readonly name: string;
  /** The prefix of its dead letters. */
  readonly deadPrefix: KvKey;
  /** The prefix of its group states. */
  readonly groupPrefix: KvKey;
  /** The prefix of its waiting group messages. */
  readonly waitingPrefix: KvKey;
  /** The marker that the engine keeps this queue (see the module comment). */
  readonly engineMarker: KvKey;

  /** The layout of queue `name`. */
  constructor(name: string) {
    const prefix = [...QUEUES_PREFIX, name];
    super(prefix);
    this.name = name;
    this.deadPrefix = [...prefix, "d"];
    this.groupPrefix = [...prefix, "g"];
    this.waitingPrefix = [...prefix, "p"];
    this.engineMarker = [...prefix, "e"];
  }

  /** The dead-letter key of message `id`. */
  dead(id: string): KvKey {
    return [...this.prefix, "d", id];
  }

  /** The state key of group `group`. */
  group(group: string): KvKey {
    return [...this.prefix, "g", group];
  }

  /** The key of message number `seq` of `group`, waiting. */
  waiting(group: string, seq: number): KvKey {
    return [...this.prefix, "p", group, seq];
  }

  /** The prefix of the waiting messages of `group`. */
  waitingOf(group: string): KvKey {
    return [...this.prefix, "p", group];
  }

  /** The deduplication key of `dedupId`. */
  dedup(dedupId: string): KvKey {
    return [...this.prefix, "u", dedupId];
  }

  /** The key of counter `name`. */
  counter(name: QueueCounter): KvKey {
    return [...this.prefix, "c", name];
  }
}

/** Whether two keys are equal, part by part. */
export function sameKey(a: KvKey, b: KvKey): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/** The time an id was made (its first 12 hex digits), epoch ms. */
export function idTime(id: string): number {
  return parseInt(id.slice(0, 12), 16);
}
