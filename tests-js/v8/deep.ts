/**
 * Deeply nested values of each kind the V8 codec recurses into, and their
 * bytes built without recursion (so that any depth can be fed to a
 * reader): the material of the depth-limit tests and of depth_probe.ts.
 *
 * @module
 */

/** The shapes that nest: each level is one of these around the next. */
export const DEEP_KINDS = [
  "array",
  "object",
  "set",
  "map",
  "error",
  "sparse",
] as const;

/** One of {@link DEEP_KINDS}. */
export type DeepKind = typeof DEEP_KINDS[number];

/** A value nested `depth` levels deep around the number 0. */
export function nest(kind: DeepKind, depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) {
    switch (kind) {
      case "array":
        v = [v];
        break;
      case "object":
        v = { a: v };
        break;
      case "set":
        v = new Set([v]);
        break;
      case "map":
        v = new Map([[0, v]]);
        break;
      case "error":
        v = new Error("", { cause: v });
        break;
      case "sparse": {
        const a: unknown[] = [];
        a[5] = v;
        v = a;
        break;
      }
    }
  }
  return v;
}

// The bytes before and after the inner value, per level (version 15).
const OPEN: Record<DeepKind, number[]> = {
  array: [0x41, 1], // 'A' length 1
  object: [0x6f, 0x22, 1, 0x61], // 'o' key "a"
  set: [0x27], // "'"
  map: [0x3b, 0x49, 0], // ';' key 0
  error: [0x72, 0x63], // 'r' cause
  sparse: [0x61, 6, 0x49, 10], // 'a' length 6, key 5
};
const CLOSE: Record<DeepKind, number[]> = {
  array: [0x24, 0, 1], // '$' 0 properties, length 1
  object: [0x7b, 1], // '{' 1 property
  set: [0x2c, 1], // ',' 1 element
  map: [0x3a, 2], // ':' 2 items
  error: [0x2e], // '.'
  sparse: [0x40, 1, 6], // '@' 1 property, length 6
};

/** The V8 bytes of `nest(kind, depth)` (errors without message or stack). */
export function deepBytes(kind: DeepKind, depth: number): Uint8Array {
  const open = OPEN[kind];
  const close = CLOSE[kind];
  const out = new Uint8Array(4 + depth * (open.length + close.length));
  let p = 0;
  out[p++] = 0xff;
  out[p++] = 0x0f;
  for (let i = 0; i < depth; i++) for (const b of open) out[p++] = b;
  out[p++] = 0x49; // the innermost 0
  out[p++] = 0;
  for (let i = 0; i < depth; i++) for (const b of close) out[p++] = b;
  return out;
}
