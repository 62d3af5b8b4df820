/**
 * Assertions for the conformance suite: no dependencies, identical on every
 * runtime. Errors thrown here are plain `Error`s with a readable message.
 *
 * @module
 */

import type { ErrorClass } from "./types.ts";

/** Renders any value for a failure message (bigints, typed arrays, symbols). */
export function show(v: unknown, depth = 0): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "symbol" || typeof v === "function") return String(v);
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (v === null || typeof v !== "object") return String(v);
  if (depth > 4) return "…";
  if (ArrayBuffer.isView(v)) {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return `${v.constructor.name}[${Array.from(bytes).join(",")}]`;
  }
  if (Array.isArray(v)) {
    return `[${v.map((x) => show(x, depth + 1)).join(", ")}]`;
  }
  if (v instanceof Map) {
    const parts = [...v].map(([k, x]) =>
      `${show(k, depth + 1)} => ${show(x, depth + 1)}`
    );
    return `Map{${parts.join(", ")}}`;
  }
  if (v instanceof Set) {
    return `Set{${[...v].map((x) => show(x, depth + 1)).join(", ")}}`;
  }
  if (v instanceof Date) return `Date(${v.getTime()})`;
  if (v instanceof RegExp || v instanceof Error) return String(v);
  const name = v.constructor?.name ?? "null-proto";
  const body = Object.entries(v).map(([k, x]) => `${k}: ${show(x, depth + 1)}`);
  return `${name === "Object" ? "" : name}{${body.join(", ")}}`;
}

/** Fails with `message` unless `cond` is truthy. */
export function assert(
  cond: unknown,
  message = "assertion failed",
): asserts cond {
  if (!cond) throw new Error(message);
}

/** Fails unless `Object.is(actual, expected)`. */
export function assertIs(
  actual: unknown,
  expected: unknown,
  what = "value",
): void {
  if (!Object.is(actual, expected)) {
    throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Fails unless the two values are structurally equal (see `deepEqual`). */
export function assertEquals(
  actual: unknown,
  expected: unknown,
  what = "value",
): void {
  const diff = deepDiff(actual, expected, what);
  if (diff) throw new Error(diff);
}

/**
 * Structural comparison: same prototype names, same own enumerable entries,
 * Object.is on primitives (so -0 differs from 0 and NaN equals NaN), byte
 * equality for views. Returns a description of the first difference, or "".
 */
export function deepDiff(a: unknown, b: unknown, path: string): string {
  if (Object.is(a, b)) return "";
  const fail = `${path}: expected ${show(b)}, got ${show(a)}`;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return fail;
  }
  const ta = Object.prototype.toString.call(a);
  const tb = Object.prototype.toString.call(b);
  if (ta !== tb || a.constructor?.name !== b.constructor?.name) {
    return `${path}: expected ${tb} ${show(b)}, got ${ta} ${show(a)}`;
  }
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]) ? "" : fail;
  }
  if (a instanceof ArrayBuffer && b instanceof ArrayBuffer) {
    return deepDiff(new Uint8Array(a), new Uint8Array(b), path);
  }
  if (a instanceof Date && b instanceof Date) {
    return Object.is(a.getTime(), b.getTime()) ? "" : fail;
  }
  if (a instanceof RegExp && b instanceof RegExp) {
    return String(a) === String(b) ? "" : fail;
  }
  if (a instanceof Map && b instanceof Map) {
    return deepDiff([...a], [...b], `${path}(map)`);
  }
  if (a instanceof Set && b instanceof Set) {
    return deepDiff([...a], [...b], `${path}(set)`);
  }
  if (a instanceof Error && b instanceof Error) {
    return a.name === b.name && a.message === b.message ? "" : fail;
  }
  // Property order is not compared: cases that care check Object.keys().
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    return `${path}: keys differ: expected [${kb}], got [${ka}]`;
  }
  for (const k of ka) {
    const d = deepDiff(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
    if (d) return d;
  }
  return "";
}

/** Checks that `e` is an instance of `cls`, named like it, with `message`. */
export function assertError(
  e: unknown,
  cls: ErrorClass,
  message: string | RegExp,
): void {
  if (!(e instanceof cls)) {
    throw new Error(
      `expected ${cls.name}(${show(message)}), got ${describe(e)}`,
    );
  }
  // A TypeError is also an Error: the name pins the exact class.
  if (e.name !== cls.name) {
    throw new Error(`expected error named ${cls.name}, got ${describe(e)}`);
  }
  const ok = typeof message === "string"
    ? e.message === message
    : message.test(e.message);
  if (!ok) {
    throw new Error(
      `expected ${cls.name} message ${show(message)}, got ${show(e.message)}`,
    );
  }
}

/** Expects `fn()` to throw synchronously, with this class and message. */
export function assertThrows(
  fn: () => unknown,
  cls: ErrorClass,
  message: string | RegExp,
): void {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    assertError(e, cls, message);
    return;
  }
  // Swallow a rejection that would otherwise be reported as unhandled.
  if (result instanceof Promise) result.catch(() => {});
  throw new Error(
    `expected a synchronous ${cls.name}(${show(message)}), got no throw`,
  );
}

/**
 * Expects `fn()` to return a promise (no synchronous throw) that rejects with
 * this class and message.
 */
export async function assertRejects(
  fn: () => unknown,
  cls: ErrorClass,
  message: string | RegExp,
): Promise<void> {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    throw new Error(
      `expected a rejection ${cls.name}(${
        show(message)
      }), but it threw synchronously: ${describe(e)}`,
    );
  }
  try {
    await result;
  } catch (e) {
    assertError(e, cls, message);
    return;
  }
  throw new Error(
    `expected a rejection ${cls.name}(${show(message)}), but it resolved`,
  );
}

/**
 * Expects the iterator from `fn()` to be created without error and its first
 * `next()` to reject with this class and message.
 */
export async function assertNextRejects(
  fn: () => AsyncIterator<unknown>,
  cls: ErrorClass,
  message: string | RegExp,
): Promise<void> {
  let it: AsyncIterator<unknown>;
  try {
    it = fn();
  } catch (e) {
    throw new Error(
      `expected the iterator to be created, but it threw: ${describe(e)}`,
    );
  }
  await assertRejects(() => it.next(), cls, message);
}

/** One-line description of a thrown value. */
export function describe(e: unknown): string {
  if (e instanceof Error) {
    return `${e.constructor.name}[name=${e.name}](${show(e.message)})`;
  }
  return `non-error ${show(e)}`;
}
