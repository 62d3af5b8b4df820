/**
 * `kvq copy`'s verify pass: both stores listed side by side in key order
 * (copy checkpoints left out), counts and a checksum of keys and stored
 * values on each side, and what differs: keys missing from the target,
 * keys only in the target, and keys whose values differ (a few of each
 * shown). Versionstamps and expiries are not compared: a copy cannot keep
 * the first, and KV Connect cannot tell the second.
 *
 * @module
 */

import type { KvEntry, KvKey } from "../types.ts";
import { keyBytes, storedValue } from "./copy_entries.ts";
import { type CopyStore, innermost, isCheckpointKey } from "./copy_store.ts";

/** One side's count and checksum. */
export interface Side {
  /** Entries compared (the expected queue keys of a target left out). */
  count: number;
  /** A 64-bit checksum of those keys and values in key order, hex. */
  checksum: string;
}

/** What a verify pass found. */
export interface Verified {
  /** The source. */
  source: Side;
  /** The target. */
  target: Side;
  /** Keys in the source, not in the target. */
  missing: number;
  /** Keys in the target, not in the source. */
  extra: number;
  /** Keys in both whose values differ. */
  changed: number;
  /** Target keys of the queue made of keys not in the source (expected). */
  queueKeys: number;
  /** A few examples, one line each. */
  examples: string[];
}

/** A running checksum: two 32-bit FNV-1a lanes over every byte. */
class Checksum {
  #a = 0x811c9dc5;
  #b = 0x2e5ea2b1;
  add(bytes: Uint8Array): void {
    let a = this.#a;
    let b = this.#b;
    for (let i = 0; i < bytes.length; i++) {
      a = Math.imul(a ^ bytes[i], 0x01000193);
      b = Math.imul(b ^ bytes[i], 0x5bd1e995) ^ (b >>> 15);
    }
    this.#a = a;
    this.#b = b;
  }
  hex(): string {
    return (this.#a >>> 0).toString(16).padStart(8, "0") +
      (this.#b >>> 0).toString(16).padStart(8, "0");
  }
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  return compareBytes(x, y) === 0;
}

interface Item {
  key: KvKey;
  k: Uint8Array;
  v: Uint8Array;
}

/** Entries of `kv` in key order, checkpoints left out. */
async function* walk(kv: CopyStore): AsyncGenerator<Item> {
  for await (const e of innermost(kv).list({ prefix: [] })) {
    const entry = e as KvEntry<unknown>;
    if (isCheckpointKey(entry.key)) continue;
    yield {
      key: entry.key,
      k: keyBytes(entry.key),
      v: storedValue(entry.value),
    };
  }
}

/** Counts `item` on `side` and adds it to its checksum. */
function tally(side: Side, sum: Checksum, item: Item): void {
  side.count++;
  sum.add(item.k);
  sum.add(item.v);
}

function isQueueKey(key: KvKey): boolean {
  return key[0] === "__kvq" && key[1] === "q";
}

/**
 * Compares `from` and `to`. `queueInTarget`: the copy enqueued messages on
 * a target whose queue is made of keys, so target keys under
 * `["__kvq", "q"]` that the source lacks are expected, counted apart.
 */
export async function verify(
  from: CopyStore,
  to: CopyStore,
  queueInTarget: boolean,
  show: (key: KvKey) => string,
  maxExamples = 5,
): Promise<Verified> {
  const out: Verified = {
    source: { count: 0, checksum: "" },
    target: { count: 0, checksum: "" },
    missing: 0,
    extra: 0,
    changed: 0,
    queueKeys: 0,
    examples: [],
  };
  const sums = [new Checksum(), new Checksum()];
  const a = walk(from);
  const b = walk(to);
  const example = (line: string) => {
    if (out.examples.length < maxExamples * 3) out.examples.push(line);
  };
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareBytes(x.value.k, y.value.k);
    if (order < 0) {
      tally(out.source, sums[0], x.value!);
      out.missing++;
      if (out.missing <= maxExamples) {
        example(`missing in the target: ${show(x.value!.key)}`);
      }
      x = await a.next();
    } else if (order > 0) {
      if (queueInTarget && isQueueKey(y.value!.key)) out.queueKeys++;
      else {
        tally(out.target, sums[1], y.value!);
        out.extra++;
        if (out.extra <= maxExamples) {
          example(`only in the target: ${show(y.value!.key)}`);
        }
      }
      y = await b.next();
    } else {
      tally(out.source, sums[0], x.value!);
      tally(out.target, sums[1], y.value!);
      if (!sameBytes(x.value!.v, y.value!.v)) {
        out.changed++;
        if (out.changed <= maxExamples) {
          example(`value differs: ${show(x.value!.key)}`);
        }
      }
      x = await a.next();
      y = await b.next();
    }
  }
  out.source.checksum = sums[0].hex();
  out.target.checksum = sums[1].hex();
  return out;
}
