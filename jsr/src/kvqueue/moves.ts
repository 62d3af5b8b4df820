/**
 * The moves of a message between the queue's keys (layout.ts), each one
 * atomic operation guarded by a check on the key it leaves:
 *
 * - claim: ready → leased (by a listener);
 * - renew: leased → leased until later (by its holder);
 * - ack: leased → gone (the handler succeeded);
 * - fail: leased → ready after the next backoff interval, or, with none
 *   left, → written to every `keysIfUndelivered` key and gone (the handler
 *   failed, or the holder died and its lease expired);
 * - release: leased → ready as it was, the attempt not counted (a claimed
 *   message that no handler started).
 *
 * @module
 */

import type { KvEntry, KvKey } from "../types.ts";
import { deserializePayload } from "../value.ts";
import type { Move } from "./commits.ts";
import type { Layout, LeaseRecord, ReadyRecord } from "./layout.ts";
import type { KvStoreAtomic } from "./types.ts";

// Rough size of a record, for batching; exactness does not matter.
const RECORD_WEIGHT = 256;

/** A ready key read from the store. */
export interface ReadyEntry {
  /** The message id. */
  id: string;
  /** When it is due (epoch ms). */
  dueMs: number;
  /** The ready key and the versionstamp it was read at. */
  entry: KvEntry<unknown>;
  /** Its record. */
  record: ReadyRecord;
}

/** A message under a lease: the key, as last written, and its record. */
export interface Lease {
  /** The message id. */
  id: string;
  /** The lease key. */
  key: KvKey;
  /** The versionstamp of the commit that wrote `key`. */
  versionstamp: string;
  /** When the lease runs out (epoch ms). */
  expiresMs: number;
  /** The lease record. */
  record: LeaseRecord;
  /**
   * How many hand-ons in a row led to this lease (consumer.ts HandOn),
   * kept in memory only; absent for a claimed lease.
   */
  chain?: number;
  /**
   * What the policy that handed this lease on knew then (named queues:
   * its group's state as that commit wrote it, so that the
   * acknowledgement need not read it), in memory only; read once.
   */
  carry?: unknown;
}

/** A claim: the move, and the lease it makes once committed. */
export function claimMove(
  layout: Layout,
  ready: ReadyEntry,
  expiresMs: number,
  owner: string,
): { move: Move; key: KvKey; record: LeaseRecord } {
  const key = layout.lease(expiresMs, ready.id);
  const record: LeaseRecord = { ...ready.record, dueMs: ready.dueMs, owner };
  return {
    key,
    record,
    move: {
      checks: [{
        key: ready.entry.key,
        versionstamp: ready.entry.versionstamp,
      }],
      apply(op: KvStoreAtomic) {
        op.delete(ready.entry.key);
        op.set(key, record);
      },
      wakes: false,
      mutations: 2,
      weight: RECORD_WEIGHT,
    },
  };
}

/** A renewal: the lease moves to a later expiry. */
export function renewMove(
  layout: Layout,
  lease: Lease,
  expiresMs: number,
): { move: Move; key: KvKey } {
  const key = layout.lease(expiresMs, lease.id);
  return {
    key,
    move: {
      ...leaving(lease),
      apply(op: KvStoreAtomic) {
        op.delete(lease.key);
        op.set(key, lease.record);
      },
      wakes: false,
      mutations: 2,
      weight: RECORD_WEIGHT,
    },
  };
}

/** An acknowledgement: the lease and the body are deleted. */
export function ackMove(layout: Layout, lease: Lease): Move {
  return {
    ...leaving(lease),
    apply(op: KvStoreAtomic) {
      op.delete(lease.key);
      op.delete(layout.payload(lease.id));
    },
    wakes: false,
    mutations: 2,
    weight: 0,
  };
}

/** A release: back to its ready key, the attempt not counted. */
export function releaseMove(layout: Layout, lease: Lease): Move {
  const { dueMs, owner: _, ...ready } = lease.record;
  return readyAgain(layout, lease, dueMs, ready);
}

/**
 * A failed attempt (the handler failed, or the lease expired): due again
 * after the next backoff interval; with none left, the value goes to every
 * dead-letter key (unless `withoutDeadLetters`) and the message is gone.
 * `payload` is the message body, needed only for dead letters.
 */
export function failMove(
  layout: Layout,
  lease: Lease,
  now: number,
  payload: Uint8Array | null,
  withoutDeadLetters = false,
): Move {
  const { backoffSchedule, keysIfUndelivered, attempts } = lease.record;
  if (backoffSchedule.length > 0) {
    return readyAgain(layout, lease, now + backoffSchedule[0], {
      attempts: attempts + 1,
      backoffSchedule: backoffSchedule.slice(1),
      keysIfUndelivered,
    });
  }
  // The empty key is valid as a dead-letter key in Deno, but no store
  // accepts a write to it through the KV API: it is skipped.
  const keys = withoutDeadLetters || payload === null
    ? []
    : keysIfUndelivered.filter((k) => k.length > 0);
  const value = keys.length > 0 ? deadLetterValue(payload!) : undefined;
  return {
    ...leaving(lease),
    apply(op: KvStoreAtomic) {
      op.delete(lease.key);
      op.delete(layout.payload(lease.id));
      for (const key of keys) op.set(key, value);
    },
    wakes: false,
    mutations: 2 + keys.length,
    weight: keys.length * ((payload?.length ?? 0) + 64),
  };
}

/** Whether a failed attempt of this lease dead-letters (no retry left). */
export function isLastAttempt(lease: Lease): boolean {
  return lease.record.backoffSchedule.length === 0;
}

function readyAgain(
  layout: Layout,
  lease: Lease,
  dueMs: number,
  record: ReadyRecord,
): Move {
  const key = layout.ready(dueMs, lease.id);
  return {
    ...leaving(lease),
    apply(op: KvStoreAtomic) {
      op.delete(lease.key);
      op.set(key, record);
    },
    wakes: true,
    mutations: 2,
    weight: RECORD_WEIGHT,
  };
}

function leaving(lease: Lease): Pick<Move, "checks"> {
  return { checks: [{ key: lease.key, versionstamp: lease.versionstamp }] };
}

// A body that does not decode (written by something else) is kept as its
// bytes rather than lost.
function deadLetterValue(payload: Uint8Array): unknown {
  try {
    return deserializePayload(payload);
  } catch {
    return payload;
  }
}
