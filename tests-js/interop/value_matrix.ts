/**
 * The value matrix of tests-js/v8/values.ts as a database: one writer puts
 * every sample (and the KvU64 and Uint8Array cases that bypass V8) in a
 * file, a reader on another runtime checks each one. Runtime-neutral: the
 * caller passes its own `openKv` result and `KvU64` class.
 *
 * @module
 */

import { difference } from "../v8/equal.ts";
import { SAMPLES } from "../v8/values.ts";
import type { KvLike, KvU64Class } from "../harness/types.ts";

/** One reader-side outcome: a name and null (equal) or the difference. */
export type Outcome = [name: string, difference: string | null];

class BytesSubclass extends Uint8Array {}

/** Values set directly (not through V8) or with KvU64s: [name, make, expect]. */
function extras(
  U64: KvU64Class,
): [string, () => unknown, (U: KvU64Class) => unknown][] {
  return [
    [
      "bytes [1,2,3]",
      () => Uint8Array.of(1, 2, 3),
      () => Uint8Array.of(1, 2, 3),
    ],
    ["bytes empty", () => new Uint8Array(0), () => new Uint8Array(0)],
    [
      "bytes subarray keeps only its window",
      () => Uint8Array.of(9, 9, 8, 7).subarray(2),
      () => Uint8Array.of(8, 7),
    ],
    [
      "bytes from a Uint8Array subclass",
      () => BytesSubclass.of(4, 5),
      () => Uint8Array.of(4, 5),
    ],
    ["KvU64 0", () => new U64(0n), (U) => new U(0n)],
    ["KvU64 258", () => new U64(258n), (U) => new U(258n)],
    ["KvU64 max", () => new U64(2n ** 64n - 1n), (U) => new U(2n ** 64n - 1n)],
    ["KvU64 nested in an object is a plain object", () => ({
      n: new U64(5n),
    }), () => ({ n: { value: 5n } })],
    [
      "KvU64 nested in an array is a plain object",
      () => [new U64(1n)],
      () => [{ value: 1n }],
    ],
  ];
}

/** The raw rows a writer must leave: key name, v_encoding, value bytes. */
export const RAW_ROWS: [string, number, string][] = [
  ["bytes [1,2,3]", 3, "010203"],
  ["bytes subarray keeps only its window", 3, "0807"],
  ["KvU64 258", 2, "0201000000000000"],
  ["KvU64 max", 2, "ffffffffffffffff"],
];

/** Writes the whole matrix, the errors' stacks and the extras into `kv`. */
export async function writeMatrix(kv: KvLike, U64: KvU64Class): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (const s of SAMPLES) {
    const value = s.make();
    writes.push(kv.set(["v", s.name], value));
    // The reader rebuilds each value itself; only the stacks depend on
    // where the writer ran, so they travel beside the values.
    const stacks = errorsIn(value).map((e) => e.stack);
    if (stacks.length > 0) writes.push(kv.set(["stack", s.name], stacks));
  }
  for (const [name, make] of extras(U64)) {
    writes.push(kv.set(["x", name], make()));
  }
  writes.push(kv.set(["names"], SAMPLES.map((s) => s.name)));
  // Concurrent sets let kvq fold them into few commits; Deno runs them in turn.
  await Promise.all(writes);
}

/** Reads back what {@link writeMatrix} wrote on another runtime. */
export async function readMatrix(
  kv: KvLike,
  U64: KvU64Class,
): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const written = (await kv.get(["names"])).value as string[] | null;
  out.push(["the writer's list of samples", written ? null : "missing"]);
  const ours = new Set(SAMPLES.map((s) => s.name));
  for (const name of written ?? []) {
    if (!ours.has(name)) out.push([name, "written, not in this matrix"]);
  }
  for (const s of SAMPLES) {
    const entry = await kv.get(["v", s.name]);
    if (entry.versionstamp === null) {
      out.push([s.name, "missing from the file"]);
      continue;
    }
    const made = s.make();
    let expected = s.expect ? s.expect(made) : made;
    // A Uint8Array at the top is stored as bytes: only its window returns.
    if (expected instanceof Uint8Array) expected = new Uint8Array(expected);
    const stacks = (await kv.get(["stack", s.name])).value as
      | (string | undefined)[]
      | null;
    const errors = errorsIn(expected);
    errors.forEach((e, i) => e.stack = stacks?.[i]);
    const count = stacks?.length ?? 0;
    out.push([
      s.name,
      errors.length !== count
        ? `${errors.length} errors here, ${count} stacks written`
        : compare(entry.value, expected),
    ]);
  }
  for (const [name, , expect] of extras(U64)) {
    const entry = await kv.get(["x", name]);
    const want = expect(U64);
    let d = entry.versionstamp === null
      ? "missing from the file"
      : difference(entry.value, want);
    // KvU64s compare by class and value (the reader's own class).
    if (want instanceof U64) {
      const got = entry.value;
      d = got instanceof U64 && got.value === want.value
        ? null
        : `got ${describeValue(got)}, expected KvU64(${want.value}n)`;
    }
    out.push([name, d]);
  }
  out.push([
    "sum onto a KvU64 the other runtime wrote",
    await sumCheck(kv, U64),
  ]);
  return out;
}

// equal.ts walks every index of an array to find holes: minutes for the
// sample with index 2**31. A huge array compares as its length plus its own
// entries instead, which tells holes apart just as well.
const HUGE = 1 << 20;

function compare(actual: unknown, expected: unknown): string | null {
  if (
    Array.isArray(actual) && Array.isArray(expected) &&
    expected.length > HUGE
  ) {
    const shape = (a: unknown[]) => ({
      length: a.length,
      entries: Object.entries(a),
    });
    return difference(shape(actual), shape(expected));
  }
  return difference(actual, expected);
}

async function sumCheck(kv: KvLike, U64: KvU64Class): Promise<string | null> {
  const key = ["x", "KvU64 258"];
  try {
    const res = await kv.atomic().sum(key, 2n).commit();
    if (!res.ok) return "commit failed";
  } catch (e) {
    return `sum threw ${e}`;
  }
  const got = (await kv.get(key)).value;
  return got instanceof U64 && got.value === 260n
    ? null
    : `got ${describeValue(got)}, expected KvU64(260n)`;
}

function describeValue(v: unknown): string {
  if (typeof v === "object" && v !== null) {
    const value = (v as { value?: unknown }).value;
    return `${Object.prototype.toString.call(v)} value=${String(value)}`;
  }
  return String(v);
}

/**
 * Every Error inside `root`, depth first in a fixed order (own keys, map
 * entries, set members, causes), each once; writer and reader walk the
 * same shape, so the i-th error is the same on both sides.
 */
export function errorsIn(root: unknown): Error[] {
  const out: Error[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return;
    if (v instanceof Error) {
      out.push(v);
      if (Object.hasOwn(v, "cause")) visit(v.cause);
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k);
        visit(x);
      }
      return;
    }
    if (v instanceof Set) {
      for (const x of v) visit(x);
      return;
    }
    for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k]);
  };
  visit(root);
  return out;
}
