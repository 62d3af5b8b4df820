/**
 * An enqueue on a named queue: one commit that writes the body and either
 * a ready key or, behind a group's head, a waiting key; with a dedup id it
 * also claims the dedup key, so of several enqueues with the same id (in
 * any number of processes) exactly one commits and the others return its
 * message id. Reads (the group's state, the dedup key) are checked in the
 * commit; a lost race reads again.
 *
 * @module
 */

import type { KvCommitResult, KvKey } from "../types.ts";
import { newId, type ReadyRecord } from "../kvqueue/layout.ts";
import { isBusy } from "../kvqueue/commits.ts";
import type { KvStore } from "../kvqueue/types.ts";
import { serializePayload } from "../value.ts";
import { groupState } from "./groups.ts";
import type { DedupRecord, NamedLayout } from "./layout.ts";
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
  const dedupId = request.noDedup ? undefined : request.dedupId ??
    (config.deduplicate ? await payloadHash(payload) : undefined);
  const group = request.group;
  for (let tries = 0;; tries++) {
    const keys = [];
    if (dedupId !== undefined) keys.push(layout.dedup(dedupId));
    if (group !== undefined) keys.push(layout.group(group));
    const read = keys.length > 0 ? await kv.getMany(keys) : [];
    const now = Date.now();
    const dedupEntry = dedupId !== undefined ? read[0] : undefined;
    const first = dedupEntry?.value as DedupRecord | null | undefined;
    if (dedupEntry !== undefined && first != null && first.until > now) {
      return {
        ok: true,
        versionstamp: dedupEntry.versionstamp!,
        id: first.id,
        duplicate: true,
      };
    }
    const id = request.id ?? newId();
    const record: ReadyRecord = {
      attempts: 0,
      backoffSchedule: [],
      keysIfUndelivered: [],
      named: { enqueuedAt: request.enqueuedAt ?? now },
    };
    if (dedupId !== undefined) record.named!.dedupId = dedupId;
    const op = kv.atomic();
    for (const e of read) {
      op.check({ key: e.key, versionstamp: e.versionstamp });
    }
    if (request.replaces !== undefined) {
      op.check(request.replaces);
      op.delete(request.replaces.key);
    }
    op.set(layout.payload(id), payload);
    const dueMs = now + request.delay;
    let wakes = true;
    if (group !== undefined) {
      const stateEntry = read[read.length - 1];
      const state = groupState(stateEntry.value);
      const seq = (state?.last ?? 0) + 1;
      record.named!.group = group;
      record.named!.seq = seq;
      if (state !== null) {
        op.set(layout.waiting(group, seq), { id, dueMs, record });
        op.set(stateEntry.key, { last: seq, head: state.head });
        wakes = false;
      } else {
        op.set(layout.ready(dueMs, id), record);
        op.set(stateEntry.key, { last: seq, head: seq });
      }
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
