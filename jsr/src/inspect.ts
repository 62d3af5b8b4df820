/**
 * kvq's own reads beyond `Deno.Kv`, for moving data (`kvq copy`): the
 * expiry of entries, which Deno's API never returns, and the messages of
 * the store's own queue that are not yet handled. A SQLite file and a
 * Postgres store answer; a KV Connect store cannot tell (its read carries
 * no expiry, and its queue is made of ordinary keys), so both answer
 * `undefined` there. The engine side is kvq-core's engine/inspect.rs; the
 * request and reply are JSON (wire_inspect.rs).
 *
 * @module
 */

import { ByteBuf } from "./buffer.ts";
import { decodeKey, writeKey } from "./key.ts";
import type { KvState } from "./state.ts";
import { checkReply } from "./transport.ts";
import type { KvKey } from "./types.ts";
import { deserializePayload } from "./value.ts";

/** The most keys or messages one call reads (wire_inspect.rs). */
export const MAX_INSPECT = 1000;

/** A message of a store's own queue, not yet handled. */
export interface KvqPendingMessage {
  /** When it is due, in epoch ms (leased: when it would come back). */
  dueMs: number;
  /** Whether a listener holds it now. */
  leased: boolean;
  /** The message, deserialised. */
  value: unknown;
  /** What is left of its backoff schedule (null: the store's default). */
  backoffSchedule: number[] | null;
  /** Its dead-letter keys. */
  keysIfUndelivered: KvKey[];
}

/** One page of {@link KvqPendingMessage}s. */
export interface KvqPendingPage {
  /** The messages of this page, in the store's own stable order. */
  messages: KvqPendingMessage[];
  /** Pass it back for the next page; null after the last. */
  cursor: string | null;
}

const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Lowercase hex as bytes (the JSON replies carry bytes so). */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function encodeKey(key: KvKey): Uint8Array {
  const buf = new ByteBuf();
  writeKey(buf, key);
  return buf.buf.slice(0, buf.pos);
}

async function ask(s: KvState, request: unknown): Promise<unknown> {
  s.ensureOpen();
  const inspect = s.transport.inspect;
  if (inspect === undefined) return undefined;
  const reply = checkReply(
    await inspect.call(
      s.transport,
      s.store,
      utf8Out.encode(JSON.stringify(request)),
    ),
  );
  return JSON.parse(utf8.decode(reply.subarray(1)));
}

/**
 * Each key's expiry in epoch ms (null: none, or no such key), at most
 * {@link MAX_INSPECT} keys; `undefined` when the store cannot tell.
 */
export async function readExpiries(
  s: KvState,
  keys: readonly KvKey[],
): Promise<(number | null)[] | undefined> {
  if (keys.length > MAX_INSPECT) {
    throw new RangeError(`kvqExpiries: at most ${MAX_INSPECT} keys`);
  }
  const reply = await ask(s, {
    expiries: keys.map((k) => toHex(encodeKey(k))),
  }) as { expiries: (number | null)[] | null } | undefined;
  return reply?.expiries ?? undefined;
}

/**
 * A page of the store's own queue messages not yet handled, after
 * `cursor`; `undefined` when the store has no queue of its own.
 */
export async function readPending(
  s: KvState,
  cursor: string | null,
  limit: number,
): Promise<KvqPendingPage | undefined> {
  const reply = await ask(s, {
    pending: { cursor, limit: Math.min(Math.max(1, limit), MAX_INSPECT) },
  }) as {
    pending: null | {
      cursor: string | null;
      messages: {
        dueMs: number;
        leased: boolean;
        payload: string;
        backoffSchedule: number[] | null;
        keysIfUndelivered: number[][];
      }[];
    };
  } | undefined;
  const page = reply?.pending;
  if (!page) return undefined;
  return {
    cursor: page.cursor,
    messages: page.messages.map((m) => ({
      dueMs: m.dueMs,
      leased: m.leased,
      value: deserializePayload(fromHex(m.payload)),
      backoffSchedule: m.backoffSchedule,
      keysIfUndelivered: m.keysIfUndelivered.map((k) =>
        decodeKey(new Uint8Array(k))
      ),
    })),
  };
}
