/**
 * A tiny test runner for the unit scripts: `test()` registers, `run()` runs
 * them in order, prints `N passed, N failed` last and sets a non-zero exit
 * code on failure. Works unchanged on Deno, Bun and Node 24.
 *
 * @module
 */

import process from "node:process";

const tests: { name: string; fn: () => void | Promise<void> }[] = [];

/** Registers a test. */
export function test(name: string, fn: () => void | Promise<void>): void {
  tests.push({ name, fn });
}

/** Runs every registered test and reports. */
export async function run(): Promise<void> {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    try {
      await t.fn();
      passed++;
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}: ${e instanceof Error ? e.message : e}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) process.exitCode = 1;
}

/** Throws unless `a` and `b` are the same by Object.is. */
export function eq(a: unknown, b: unknown, what = "value"): void {
  if (!Object.is(a, b)) {
    throw new Error(`${what}: expected ${show(b)}, got ${show(a)}`);
  }
}

/** Throws unless `a` and `b` hold the same bytes. */
export function eqBytes(
  a: Uint8Array,
  b: ArrayLike<number>,
  what = "bytes",
): void {
  if (a.length !== b.length || Array.from(a).some((x, i) => x !== b[i])) {
    throw new Error(`${what}: expected ${hex(b)}, got ${hex(a)}`);
  }
}

/** Throws unless `fn` throws an error of `cls` with `message`. */
export function throws(
  fn: () => unknown,
  cls: new (...args: never[]) => Error,
  message: string,
): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`wrong class: ${e}`);
    eq((e as Error).message, message, "message");
    return;
  }
  throw new Error(`did not throw ${cls.name}: ${message}`);
}

/** Bytes from a hex string; spaces and `|` are ignored. */
export function bytes(hexText: string): Uint8Array {
  const clean = hexText.replace(/[\s|]/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(clean.substring(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** Lowercase hex of bytes. */
export function hex(b: ArrayLike<number>): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function show(v: unknown): string {
  return typeof v === "bigint" ? `${v}n` : JSON.stringify(v) ?? String(v);
}
