/**
 * The rendering of an `AtomicOperation` by `Deno.inspect` and Node's
 * `util.inspect`, line for line as Deno 2.9.6 renders its own: the queued
 * operations, one a line, each value read back from what will be written.
 *
 *     AtomicOperation
 *       check({ key: [ "a" ], versionstamp: null })
 *       set([ "a" ], 1, { expireIn: 1000 })
 *       sum([ "n" ], [Deno.KvU64: 1n])
 *       delete([ "b" ])
 *       enqueue("m", { delay: 5, keysIfUndelivered: [ [ "x" ] ] })
 *
 * or `AtomicOperation (empty)`. Keys and values are shown by the runtime's
 * own inspect, so Node prints its single quotes.
 *
 * @module
 */

import { decodeValue, deserializePayload } from "./value.ts";
import { M_DELETE, M_MAX, M_MIN, M_SET, M_SUM } from "./wire.ts";

/** The runtime's inspect, with the caller's options already applied. */
export type Show = (value: unknown) => string;

/** What an atomic operation has queued, in its builder's parallel arrays. */
export interface Queued {
  /** Check keys, as given. */
  checkKeys: unknown[];
  /** Check versionstamps, as given. */
  checkStamps: unknown[];
  /** Mutation kinds (wire.ts M_*). */
  kinds: number[];
  /** Mutation keys, as given. */
  keys: unknown[];
  /** Value encodings (value.ts ENC_*), 0 for a delete. */
  encodings: number[];
  /** Encoded values, null for a delete. */
  values: (Uint8Array | null)[];
  /** expireIn of a set, -1 when none was given. */
  expiries: number[];
  /** Serialised queue messages. */
  payloads: Uint8Array[];
  /** Enqueue delays, as given (0 when none). */
  delays: unknown[];
  /** keysIfUndelivered, as given ([] when none). */
  deadKeys: unknown[];
  /** backoffSchedule, as given (null when none). */
  backoffs: unknown[];
}

const NAMES: Record<number, string> = {
  [M_SET]: "set",
  [M_DELETE]: "delete",
  [M_SUM]: "sum",
  [M_MIN]: "min",
  [M_MAX]: "max",
};

/** Renders `q` as Deno does. */
export function renderAtomic(q: Queued, show: Show): string {
  const lines: string[] = [];
  for (let i = 0; i < q.checkKeys.length; i++) {
    const stamp = q.checkStamps[i];
    const shown = stamp === null ? "null" : `"${stamp}"`;
    lines.push(
      `  check({ key: ${show(q.checkKeys[i])}, versionstamp: ${shown} })`,
    );
  }
  for (let i = 0; i < q.kinds.length; i++) {
    const key = show(q.keys[i]);
    const name = NAMES[q.kinds[i]];
    if (q.kinds[i] === M_DELETE) {
      lines.push(`  delete(${key})`);
      continue;
    }
    let value: unknown;
    try {
      value = decodeValue(q.encodings[i], q.values[i]!);
    } catch {
      value = "[v8 value]";
    }
    const expireIn = q.expiries[i];
    lines.push(
      q.kinds[i] === M_SET && expireIn >= 0
        ? `  set(${key}, ${show(value)}, { expireIn: ${expireIn} })`
        : `  ${name}(${key}, ${show(value)})`,
    );
  }
  for (let i = 0; i < q.payloads.length; i++) {
    let message: unknown;
    try {
      message = deserializePayload(q.payloads[i]);
    } catch {
      message = "[serialized message]";
    }
    const delay = q.delays[i];
    const dead = q.deadKeys[i] as { length?: unknown };
    const backoff = q.backoffs[i];
    if (delay === 0 && dead.length === 0 && backoff === null) {
      lines.push(`  enqueue(${show(message)})`);
      continue;
    }
    const options: string[] = [];
    if (delay !== 0) options.push(`delay: ${delay}`);
    if ((dead.length as number) > 0) {
      options.push(`keysIfUndelivered: ${show(dead)}`);
    }
    if (backoff !== null) options.push(`backoffSchedule: ${show(backoff)}`);
    lines.push(`  enqueue(${show(message)}, { ${options.join(", ")} })`);
  }
  return lines.length === 0
    ? "AtomicOperation (empty)"
    : `AtomicOperation\n${lines.join("\n")}`;
}
