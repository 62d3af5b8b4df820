/**
 * Helpers of the queue-on-KV cases: the queue's keys as stored, and a
 * listener that records deliveries.
 *
 * @module
 */

import type { KvLike } from "../harness/types.ts";
import type { QueuedKvLike } from "./flavours.ts";

/** The default prefix of the queue's keys. */
export const P = ["__kvq", "q"];

/** Every key under `prefix`, with its value. */
export async function entries(kv: KvLike, prefix: unknown[] = P) {
  const out: { key: unknown[]; value: unknown }[] = [];
  for await (const e of kv.list({ prefix })) {
    out.push({ key: e.key, value: e.value });
  }
  return out;
}

/** The queue's message keys ("m", "r", "l"), as [kind, ...rest]. */
export async function messageKeys(kv: KvLike): Promise<unknown[][]> {
  return (await entries(kv)).map((e) => e.key.slice(2)).filter((k) =>
    k[0] !== "w"
  );
}

/** A listener recording each delivery; `fail` decides failures. */
export function record(
  kv: QueuedKvLike,
  fail: (m: unknown, n: number) => boolean = () => false,
  options?: unknown,
) {
  const seen: unknown[] = [];
  const times: number[] = [];
  const done = kv.listenQueue((m: unknown) => {
    seen.push(m);
    times.push(Date.now());
    if (fail(m, seen.filter((x) => x === m).length)) {
      throw new Error("handler failure (expected)");
    }
  }, options);
  return { seen, times, done };
}
