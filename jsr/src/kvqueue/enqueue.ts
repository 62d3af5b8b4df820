/**
 * An enqueue as writes: Deno's validation of the value and options (the
 * same checks, messages and moments as `Deno.Kv.enqueue` and
 * `AtomicOperation.enqueue` in Deno 2.9.6), then the two keys it adds to an
 * atomic operation.
 *
 * What Deno checks in JavaScript (delay and backoff bounds, the value's
 * clonability) throws at once; what Deno's op checks (option types, key
 * parts, the payload size) is returned as a deferred error, raised by the
 * caller when Deno would raise it: `kv.enqueue` rejects, `atomic()` rejects
 * at `commit()`.
 *
 * @module
 */

import { checkBackoffSchedule, checkDelay } from "../check.ts";
import { KEY_PART_ERROR, serdeError } from "../key.ts";
import type { KvEnqueueOptions, KvKey } from "../types.ts";
import { serializePayload } from "../value.ts";
import {
  DEFAULT_BACKOFF,
  type Layout,
  newId,
  type ReadyRecord,
} from "./layout.ts";
import type { KvStoreAtomic } from "./types.ts";

/** Deno's payload limit, V8 header included. */
const MAX_PAYLOAD_BYTES = 65536;

/** One validated message, ready to be written. */
export interface PreparedEnqueue {
  /** Its new id. */
  id: string;
  /** The payload's V8 bytes. */
  payload: Uint8Array;
  /** Its delay in whole ms. */
  delay: number;
  /** Its first ready record. */
  record: ReadyRecord;
  /** The error Deno raises later (at the op), or null. */
  deferred: Error | null;
}

/**
 * Validates and serialises one enqueue. Throws what Deno throws at once;
 * returns what Deno raises later in `deferred`.
 */
export function prepareEnqueue(
  value: unknown,
  options: KvEnqueueOptions | undefined,
): PreparedEnqueue {
  if (options?.delay !== undefined) checkDelay(options.delay);
  if (options?.backoffSchedule !== undefined) {
    checkBackoffSchedule(options.backoffSchedule);
  }
  const payload = serializePayload(value);
  const delay: unknown = options?.delay ?? 0;
  const keys: unknown = options?.keysIfUndelivered ?? [];
  const schedule: unknown = options?.backoffSchedule ?? null;
  const record: ReadyRecord = {
    attempts: 0,
    backoffSchedule: [...DEFAULT_BACKOFF],
    keysIfUndelivered: [],
  };
  const prepared: PreparedEnqueue = {
    id: newId(),
    payload,
    delay: 0,
    record,
    deferred: null,
  };
  try {
    // In the order Deno's op decodes its arguments.
    if (typeof delay !== "number") throw serdeError("integer", delay);
    prepared.delay = Math.trunc(delay);
    if (!Array.isArray(keys)) throw serdeError("array", keys);
    let encodable = true;
    for (const key of keys) {
      if (!checkKey(key)) encodable = false;
      record.keysIfUndelivered.push([...(key as KvKey)]);
    }
    if (schedule !== null) {
      if (!Array.isArray(schedule)) throw serdeError("array", schedule);
      record.backoffSchedule = schedule.map((interval: unknown) => {
        if (typeof interval !== "number") {
          throw serdeError("integer", interval);
        }
        return Math.trunc(interval);
      });
    }
    if (!encodable) throw new TypeError("Invalid enqueue");
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new TypeError(
        `enqueue payload too large (max ${MAX_PAYLOAD_BYTES} bytes)`,
      );
    }
  } catch (error) {
    prepared.deferred = error as Error;
  }
  return prepared;
}

/**
 * Adds a prepared message to `op`: its body and its ready key, due `delay`
 * ms from `now`. The caller bumps the wake-up key once per commit.
 */
export function addEnqueue(
  op: KvStoreAtomic,
  layout: Layout,
  message: PreparedEnqueue,
  now: number,
): void {
  op.set(layout.payload(message.id), message.payload);
  op.set(layout.ready(now + message.delay, message.id), message.record);
}

/** Bumps the wake-up key that listeners watch. */
export function addWake(op: KvStoreAtomic, layout: Layout): void {
  op.sum(layout.wakeKey, 1n);
}

/**
 * Checks a dead-letter key as Deno's op does: a TypeError for a non-array
 * or a part of the wrong type; false (Deno's "Invalid enqueue", raised
 * after the type errors) for a bigint part longer than 255 bytes.
 */
function checkKey(key: unknown): boolean {
  if (!Array.isArray(key)) throw serdeError("array", key);
  let ok = true;
  for (const part of key) {
    switch (typeof part) {
      case "string":
      case "number":
      case "boolean":
        break;
      case "bigint": {
        const magnitude = part < 0n ? -part : part;
        if (magnitude.toString(16).length > 510) ok = false;
        break;
      }
      case "object":
        if (part !== null && ArrayBuffer.isView(part)) break;
        throw new TypeError(KEY_PART_ERROR);
      default:
        throw new TypeError(KEY_PART_ERROR);
    }
  }
  return ok;
}
