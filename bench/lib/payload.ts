/** The benchmark message: `{ i, body }` with a 100-character body. */
import type { Payload } from "./types.ts";

const BODY = "kvq-bench-".repeat(10);

/** Builds message number `i`. */
export function payload(i: number): Payload {
  return { i, body: BODY };
}

/** Builds messages `from` .. `to - 1`. */
export function payloads(from: number, to: number): Payload[] {
  const out: Payload[] = [];
  for (let i = from; i < to; i++) out.push(payload(i));
  return out;
}
