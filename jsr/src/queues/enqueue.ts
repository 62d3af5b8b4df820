/**
 * An enqueue on a named queue: one commit that writes the body and either
 * a ready key or, behind a group's head, a waiting key; with a dedup id it
 * also claims the dedup key, so of several enqueues with the same id (in
 * any number of processes) exactly one commits and the others return its
 * message id. Reads (the group's state, the dedup key) are checked in the
 * commit; a lost race reads again. The same writes can join a caller's own
 * atomic operation instead ({@link enqueueInto}); there a lost race fails
 * the caller's commit.
 *
 * @module
 */

import type { KvCommitResult, KvEntryMaybe, KvKey } from "../types.ts";
import { newId, type ReadyRecord } from "../kvqueue/layout.ts";
import { isBusy } from "../kvqueue/commits.ts";
import type { KvStore, KvStoreAtomic } from "../kvqueue/types.ts";
import { serializePayload } from "../value.ts";
import { groupState } from "./groups.ts";
import type { DedupRecord, GroupState, NamedLayout } from "./layout.ts";
import type { QueueConfig } from "./options.ts";

/** Deno's payload limit, V8 header included. */
const MAX_PAYLOAD_BYTES = 65536;
// Races lost before an enqueue gives up (each one means another commit
// on the same group or dedup id won).
const MAX_TRIES = 1000;

/**
 * The result of an enqueue on a named queue: Deno's commit result, with
 * the message id.
 */
export interface QueueEnqueueResult extends KvCommitResult {
  /** The message id (of the first message, for a duplicate). */
  id: string;
  /**
   * True when a message with the same dedup id was enqueued within the
   * window: nothing was added, and `id` and `versionstamp` are the first
   * one's.
   */
  duplicate: boolean;
}

/** A checked enqueue. */
export interface EnqueueRequest {
  /** The value (V8-serialised here). */
  value: unknown;
  /** Its delay in ms. */
  delay: number;
  /** Its ordering group. */
  group?: string;
  /** Its dedup id. */
  dedupId?: string;
  /** Reuse this id (a redrive); a new one when absent. */
  id?: string;
  /** Reuse these metadata fields (a redrive). */
  enqueuedAt?: number;
  /** No deduplication, whatever the queue's options say (a redrive). */
  noDedup?: boolean;
  /** A key to delete in the same commit, checked (a redriven dead letter). */
  replaces?: { key: KvKey; versionstamp: string };
}

/** The SHA-256 of `bytes` in hex: the default dedup id. */
export async function payloadHash(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Serialises a payload, with Deno's size limit. */
export function payloadOf(value: unknown): Uint8Array {
  const payload = serializePayload(value);
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new TypeError(
      `enqueue payload too large (max ${MAX_PAYLOAD_BYTES} bytes)`,
    );
  }
  return payload;
}

/** What an enqueue reads before it writes: the dedup entry, the group state. */
interface Reads {
  /** The dedup key's entry, with a dedup id. */
  dedup?: KvEntryMaybe<unknown>;
  /** The group's state entry, with a group. */
  group?: KvEntryMaybe<unknown>;
}

/** Reads what an enqueue with `dedupId` and `group` depends on, in one snapshot. */
async function readFirst(
  kv: KvStore,
  layout: NamedLayout,
  dedupId: string | undefined,
  group: string | undefined,
): Promise<Reads> {
  const keys = [];
  if (dedupId !== undefined) keys.push(layout.dedup(dedupId));
  if (group !== undefined) keys.push(layout.group(group));
  const read = keys.length > 0 ? await kv.getMany(keys) : [];
  return {
    dedup: dedupId !== undefined ? read[0] : undefined,
    group: group !== undefined ? read[read.length - 1] : undefined,
  };
}

/**
 * The first message's id and versionstamp when `reads` found `dedupId`
 * live: the enqueue is a duplicate and adds nothing.
 */
function duplicateOf(
  reads: Reads,
  now: number,
): { id: string; versionstamp: string } | null {
  const first = reads.dedup?.value as DedupRecord | null | undefined;
  if (first == null || first.until <= now) return null;
  return { id: first.id, versionstamp: reads.dedup!.versionstamp! };
}

/**
 * Adds one message to `op`: checks on what `reads` found (a concurrent
 * enqueue on the same group or dedup id fails the commit) and the writes
 * (body, a ready key or a waiting one behind its group's head, the group's
 * state, the dedup key, the counter, the wake-up). `pending`: the group's
 * state as an earlier message of the same `op` left it (not yet stored).
 * Returns the group's state after this message (null without a group).
 */
function addMessage(
  op: KvStoreAtomic,
  layout: NamedLayout,
  config: QueueConfig,
  message: {
    id: string;
    payload: Uint8Array;
    delay: number;
    enqueuedAt: number;
    group?: string;
    dedupId?: string;
  },
  reads: Reads,
  now: number,
  pending?: GroupState,
): GroupState | null {
  const { id, group, dedupId } = message;
  const record: ReadyRecord = {
    attempts: 0,
    backoffSchedule: [],
    keysIfUndelivered: [],
    named: { enqueuedAt: message.enqueuedAt },
  };
  if (dedupId !== undefined) record.named!.dedupId = dedupId;
  // A group already in `op` (pending) has its check there: a second one
  // would only spend the operation's checks (a server allows few), and if
  // the group moved since, the first fails the commit anyway.
  const groupRead = pending === undefined ? reads.group : undefined;
  for (const e of [reads.dedup, groupRead]) {
    if (e !== undefined) {
      op.check({ key: e.key, versionstamp: e.versionstamp });
    }
  }
  op.set(layout.payload(id), message.payload);
  const dueMs = now + message.delay;
  let wakes = true;
  let after: GroupState | null = null;
  if (group !== undefined && reads.group !== undefined) {
    const state = pending ?? groupState(reads.group.value);
    const seq = (state?.last ?? 0) + 1;
    record.named!.group = group;
    record.named!.seq = seq;
    if (state !== null) {
      op.set(layout.waiting(group, seq), { id, dueMs, record });
      after = { last: seq, head: state.head };
      wakes = false;
    } else {
      op.set(layout.ready(dueMs, id), record);
      after = { last: seq, head: seq };
    }
    op.set(reads.group.key, after);
  } else {
    op.set(layout.ready(dueMs, id), record);
  }
  if (dedupId !== undefined) {
    const until = now + config.dedupWindowMs;
    op.set(layout.dedup(dedupId), { id, until } satisfies DedupRecord, {
      expireIn: config.dedupWindowMs,
    });
  }
  op.sum(layout.counter("enqueued"), 1n);
  if (wakes) op.sum(layout.wakeKey, 1n);
  return after;
}

/** The dedup id an enqueue uses: its own, or the payload's hash when the queue deduplicates. */
async function dedupIdOf(
  config: QueueConfig,
  request: { dedupId?: string; noDedup?: boolean },
  payload: Uint8Array,
): Promise<string | undefined> {
  if (request.noDedup) return undefined;
  return request.dedupId ??
    (config.deduplicate ? await payloadHash(payload) : undefined);
}

/**
 * Enqueues one message on `layout`'s queue. Resolves null only when
 * `request.replaces` changed meanwhile (nothing was written).
 */
export async function enqueueNamed(
  kv: KvStore,
  layout: NamedLayout,
  config: QueueConfig,
  request: EnqueueRequest,
  payload: Uint8Array,
): Promise<QueueEnqueueResult | null> {
  const dedupId = await dedupIdOf(config, request, payload);
  const group = request.group;
  for (let tries = 0;; tries++) {
    const reads = await readFirst(kv, layout, dedupId, group);
    const now = Date.now();
    const first = duplicateOf(reads, now);
    if (first !== null) return { ok: true, ...first, duplicate: true };
    const id = request.id ?? newId();
    const op = kv.atomic();
    if (request.replaces !== undefined) {
      op.check(request.replaces);
      op.delete(request.replaces.key);
    }
    addMessage(
      op,
      layout,
      config,
      {
        id,
        payload,
        delay: request.delay,
        enqueuedAt: request.enqueuedAt ?? now,
        group,
        dedupId,
      },
      reads,
      now,
    );
    let result;
    try {
      result = await op.commit();
    } catch (error) {
      if (!(error instanceof Error && isBusy(error)) || tries >= MAX_TRIES) {
        throw error;
      }
      result = { ok: false as const };
    }
    if (result.ok) {
      return {
        ok: true,
        versionstamp: result.versionstamp,
        id,
        duplicate: false,
      };
    }
    if (request.replaces !== undefined) {
      const [again] = await kv.getMany([request.replaces.key]);
      if (again.versionstamp !== request.replaces.versionstamp) {
        // Someone else redrove or purged it first.
        return null;
      }
    }
    if (tries >= MAX_TRIES) {
      throw new Error(
        `queue "${layout.name}": enqueue lost ${MAX_TRIES} races in a row`,
      );
    }
    // Another commit changed the group or took the dedup id: read again,
    // after a short random pause when it keeps happening.
    if (tries > 0) {
      await new Promise((r) =>
        setTimeout(r, Math.random() * Math.min(50, 2 ** tries))
      );
    }
  }
}

/**
 * What the messages already added to one caller's operation (not yet
 * committed) did to their groups and dedup ids, so that a second message
 * of the same group in the same operation comes after the first, and a
 * second with the same dedup id is its duplicate. Keyed by queue name and
 * group or dedup id; forgotten with the operation.
 */
interface Added {
  groups: Map<string, GroupState>;
  dedupIds: Map<string, string>;
  /** The last enqueue on the operation: the next waits for it. */
  tail: Promise<unknown>;
}
const addedTo = new WeakMap<KvStoreAtomic, Added>();

function addedOf(op: KvStoreAtomic): Added {
  let added = addedTo.get(op);
  if (added === undefined) {
    added = { groups: new Map(), dedupIds: new Map(), tail: Promise.resolve() };
    addedTo.set(op, added);
  }
  return added;
}

/** Whether `op` has the methods of an atomic operation an enqueue uses. */
export function isAtomic(op: unknown): op is KvStoreAtomic {
  if (typeof op !== "object" || op === null) return false;
  const o = op as Record<string, unknown>;
  return ["check", "set", "delete", "sum", "commit"].every((m) =>
    typeof o[m] === "function"
  );
}

/** What {@link enqueueInto} added to an atomic operation. */
export interface QueueEnqueueInResult {
  /**
   * The message id, once the operation commits; for a duplicate, the
   * first message's.
   */
  id: string;
  /** True when the dedup id was seen within the window: nothing was added. */
  duplicate: boolean;
}

/**
 * Adds an enqueue of `payload` to the caller's atomic operation `op` (of
 * the store `kv`): the message is stored, and delivered, if and only if
 * `op` commits. What the enqueue read (its group's state, its dedup id)
 * is checked in `op`, so a concurrent enqueue on the same group or dedup
 * id makes the commit fail (`ok: false`), as any check does; the caller
 * tries again, and a retried enqueue whose dedup id has meanwhile been
 * taken adds nothing.
 */
export async function enqueueInto(
  kv: KvStore,
  op: KvStoreAtomic,
  layout: NamedLayout,
  config: QueueConfig,
  request: { delay: number; group?: string; dedupId?: string },
  payload: Uint8Array,
): Promise<QueueEnqueueInResult> {
  // Enqueues on one operation run one after another, also when the caller
  // does not await each: each builds on what the one before added.
  const added = addedOf(op);
  const run = added.tail.then(() =>
    addOne(kv, op, added, layout, config, request, payload)
  );
  added.tail = run.catch(() => {});
  return await run;
}

async function addOne(
  kv: KvStore,
  op: KvStoreAtomic,
  added: Added,
  layout: NamedLayout,
  config: QueueConfig,
  request: { delay: number; group?: string; dedupId?: string },
  payload: Uint8Array,
): Promise<QueueEnqueueInResult> {
  const dedupId = await dedupIdOf(config, request, payload);
  const group = request.group;
  // One map per operation, across its queues: keyed by queue name and
  // group or dedup id.
  const dedupKey = dedupId === undefined
    ? undefined
    : JSON.stringify([layout.name, dedupId]);
  const groupKey = group === undefined
    ? undefined
    : JSON.stringify([layout.name, group]);
  const earlier = dedupKey === undefined
    ? undefined
    : added.dedupIds.get(dedupKey);
  if (earlier !== undefined) return { id: earlier, duplicate: true };
  const reads = await readFirst(kv, layout, dedupId, group);
  const now = Date.now();
  const first = duplicateOf(reads, now);
  if (first !== null) return { id: first.id, duplicate: true };
  const id = newId();
  const after = addMessage(
    op,
    layout,
    config,
    { id, payload, delay: request.delay, enqueuedAt: now, group, dedupId },
    reads,
    now,
    groupKey === undefined ? undefined : added.groups.get(groupKey),
  );
  if (groupKey !== undefined && after !== null) {
    added.groups.set(groupKey, after);
  }
  if (dedupKey !== undefined) added.dedupIds.set(dedupKey, id);
  return { id, duplicate: false };
}
