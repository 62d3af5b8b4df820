/**
 * The request and reply of the engine's `write_named` op (kvq-core's
 * wire_named.rs): named-queue messages, alone or inside an atomic write
 * (the atomic operation's commit sends them, see atomic.ts). Shared by the
 * named queues kept in the engine (queues/native.ts) and `atomic()`.
 *
 * @module
 */

import { ByteBuf } from "./buffer.ts";
import type { KvState } from "./state.ts";
import { checkReply } from "./transport.ts";
import { Reply } from "./wire.ts";

const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

/** One message to store (kvq-core's wire_named.rs). */
export interface NativeEnqueue {
  queue: string;
  id: string;
  payload: Uint8Array;
  due: number;
  group?: string;
  dedup?: [string, number];
  maxAttempts: number;
  enqueuedAt: number;
  /** A duplicate at commit fails the write (see enqueueIn). */
  unique: boolean;
}

/**
 * What a committed named write reports: per message, null when added, or
 * the first message's id and versionstamp for a duplicate.
 */
export interface NativeCommitted {
  versionstamp: string;
  duplicates: ({ id: string; versionstamp: string } | null)[];
}

// One buffer for every request: encoding is synchronous, and take()
// hands out a copy.
const out = new ByteBuf();

/** Encodes a write_named request. */
export function encodeNamedWrite(
  atomic: Uint8Array | null,
  enqueues: readonly NativeEnqueue[],
): Uint8Array {
  out.reset();
  const text = (t: string) => out.bytes(utf8Out.encode(t));
  if (atomic === null) {
    out.u8(0);
  } else {
    out.u8(1);
    out.bytes(atomic);
  }
  out.u32(enqueues.length);
  for (const e of enqueues) {
    text(e.queue);
    text(e.id);
    out.bytes(e.payload);
    out.f64(e.due);
    if (e.group === undefined) {
      out.u8(0);
    } else {
      out.u8(1);
      text(e.group);
    }
    if (e.dedup === undefined) {
      out.u8(0);
    } else {
      out.u8(1);
      text(e.dedup[0]);
      out.f64(e.dedup[1]);
    }
    out.u32(e.maxAttempts);
    out.f64(e.enqueuedAt);
    out.u8(e.unique ? 1 : 0);
  }
  return out.take();
}

/** Sends a write_named request; null when a check failed. */
export async function sendNamedWrite(
  s: KvState,
  request: Uint8Array,
): Promise<NativeCommitted | null> {
  s.ensureOpen();
  const reply = checkReply(await s.transport.writeNamed!(s.store, request));
  const r = new Reply(reply);
  if (r.u8() !== 1) return null;
  const versionstamp = r.versionstamp();
  const n = r.u32();
  const duplicates: NativeCommitted["duplicates"] = [];
  for (let i = 0; i < n; i++) {
    duplicates.push(
      r.u8() === 1
        ? { id: utf8.decode(r.bytes()), versionstamp: r.versionstamp() }
        : null,
    );
  }
  return { versionstamp, duplicates };
}

/** Messages added to atomic operations, sent with their commit. */
const riders = new WeakMap<object, NativeEnqueue[]>();

// Per operation, the last enqueue being added: the next one waits for it,
// so messages ride in the order of the calls (a group's order), and a
// repeated dedup id finds the first.
const tails = new WeakMap<object, Promise<unknown>>();

/** Runs `add` for `op` after every earlier call's for the same `op`. */
export function inTurn<T>(op: object, add: () => Promise<T>): Promise<T> {
  const previous = tails.get(op) ?? Promise.resolve();
  const next = previous.then(add, add);
  tails.set(op, next.catch(() => {}));
  return next;
}

/** Adds `message` to the commit of the atomic operation `op`. */
export function ride(op: object, message: NativeEnqueue): void {
  const list = riders.get(op);
  if (list === undefined) riders.set(op, [message]);
  else list.push(message);
}

/**
 * The id of a message already added to `op` for `queue` with `dedupId`:
 * a second one in the same operation is its duplicate.
 */
export function riderWith(
  op: object,
  queue: string,
  dedupId: string,
): string | undefined {
  return riders.get(op)?.find((m) =>
    m.queue === queue && m.dedup?.[0] === dedupId
  )?.id;
}

/** Puts back messages a commit of `op` took but did not store. */
export function restoreRiders(op: object, messages: NativeEnqueue[]): void {
  riders.set(op, [...messages, ...(riders.get(op) ?? [])]);
}

/** The messages added to `op`, if any (taken: a commit sends them once). */
export function takeRiders(op: object): NativeEnqueue[] | undefined {
  const list = riders.get(op);
  riders.delete(op);
  return list;
}
