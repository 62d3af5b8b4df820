/**
 * Ordering groups on KV keys (SQS FIFO's message groups): only the head of
 * a group (its oldest message not yet done) is under a ready or a lease
 * key; the others wait under `[...Q, "p", group, seq]`. A claim can
 * therefore never take a group's second message while its first is
 * pending, in any process, and a failing head holds back its own group
 * only (it stays the head through its retries).
 *
 * The group's state key `[...Q, "g", group]` (`{ last, head }`) is
 * checked by every write that changes the group: an enqueue appends with
 * the next sequence number, and when the head leaves (acknowledged,
 * dead-lettered or cancelled) the same commit makes the next waiting
 * message ready, or deletes the state when none is left (numbering starts
 * again at 1 for the next message of that group).
 *
 * An acknowledgement may instead lease the next message, when due, to its
 * own queue instance in that same commit (a hand-on, kvqueue/consumer.ts
 * `HandOn`): the message goes from waiting to leased without a ready key.
 *
 * @module
 */

import type { AtomicCheck, KvEntry, KvKey } from "../types.ts";
import type { LeaseRecord, ReadyRecord } from "../kvqueue/layout.ts";
import type { KvStore, KvStoreAtomic } from "../kvqueue/types.ts";
import {
  type GroupState,
  type NamedLayout,
  sameKey,
  type WaitingRecord,
} from "./layout.ts";
import type { GatheredReads } from "./reads.ts";

/** Writes that move a group on when its head leaves. */
export interface GroupAdvance {
  /** Checks on what was read (the state, the next message). */
  checks: AtomicCheck[];
  /** Adds the writes. */
  apply(op: KvStoreAtomic): void;
  /** How many mutations `apply` adds. */
  mutations: number;
  /** Whether a message becomes ready. */
  wakes: boolean;
  /** The next message, when the writes lease it (see `leaseTo`). */
  leased?: { id: string; key: KvKey; record: LeaseRecord; state: GroupState };
}

/** Who a group's next message is leased to, and until when. */
export interface LeaseTo {
  /** The holder id written into the lease record. */
  owner: string;
  /** When the lease runs out (epoch ms). */
  expiresMs: number;
}

const NONE: GroupAdvance = {
  checks: [],
  apply() {},
  mutations: 0,
  wakes: false,
};

/** Reads a list into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The group state in a stored value, or null. */
export function groupState(value: unknown): GroupState | null {
  const v = value as Partial<GroupState> | null;
  return v !== null && typeof v === "object" && typeof v.last === "number" &&
      typeof v.head === "number"
    ? { last: v.last, head: v.head }
    : null;
}

/**
 * The writes that move `record`'s group on when it leaves the queue:
 * nothing for a message without a group. The state and the next message
 * (`seq + 1`) are read through `reads` (gathered with other acks' reads);
 * when the next number is missing (cancelled or purged) the group's first
 * waiting message is listed instead. With `leaseTo`, a next message that
 * is due is leased to that holder rather than made ready. `known`: the
 * group's state as the caller knows it (written by the commit that handed
 * this message on), used instead of a read; the commit's check fails if it
 * changed since.
 */
export async function groupAdvance(
  kv: KvStore,
  layout: NamedLayout,
  record: ReadyRecord,
  now: number,
  reads?: GatheredReads,
  leaseTo?: LeaseTo,
  known?: KvEntry<GroupState>,
): Promise<GroupAdvance> {
  const group = record.named?.group;
  const seq = record.named?.seq;
  if (group === undefined || seq === undefined) return NONE;
  const stateKey = layout.group(group);
  const get = (key: KvKey) =>
    reads !== undefined ? reads.get(key) : kv.getMany([key]).then(([e]) => e);
  const [state, following] = await Promise.all([
    known !== undefined && sameKey(known.key, stateKey) ? known : get(stateKey),
    get(layout.waiting(group, seq + 1)),
  ]);
  const checks: AtomicCheck[] = [{
    key: stateKey,
    versionstamp: state.versionstamp,
  }];
  const current = groupState(state.value);
  // The state no longer names this message as the head (a purge): leave
  // the group alone, but still fail if it changes meanwhile.
  if (current === null || current.head !== seq) {
    return { ...NONE, checks };
  }
  let next: KvEntry<WaitingRecord> | undefined;
  if (following.versionstamp !== null) {
    next = following as KvEntry<WaitingRecord>;
  } else if (current.last > seq) {
    const [first] = await collect(
      kv.list({ prefix: layout.waitingOf(group) }, { limit: 1 }),
    );
    next = first as KvEntry<WaitingRecord> | undefined;
  }
  if (next === undefined) {
    return {
      checks,
      apply: (op) => op.delete(stateKey),
      mutations: 1,
      wakes: false,
    };
  }
  const nextKey = next.key;
  checks.push({ key: nextKey, versionstamp: next.versionstamp });
  const nextSeq = nextKey[nextKey.length - 1] as number;
  const w = next.value;
  const moved: GroupState = { last: current.last, head: nextSeq };
  if (leaseTo !== undefined && w.dueMs <= now) {
    const key = layout.lease(leaseTo.expiresMs, w.id);
    const record: LeaseRecord = {
      ...w.record,
      dueMs: now,
      owner: leaseTo.owner,
    };
    return {
      checks,
      apply(op) {
        op.delete(nextKey);
        op.set(key, record);
        op.set(stateKey, moved);
      },
      mutations: 3,
      wakes: false,
      leased: { id: w.id, key, record, state: moved },
    };
  }
  return {
    checks,
    apply(op) {
      op.delete(nextKey);
      op.set(layout.ready(Math.max(now, w.dueMs), w.id), w.record);
      op.set(stateKey, moved);
    },
    mutations: 3,
    wakes: true,
  };
}
