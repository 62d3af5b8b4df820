/**
 * A minimal test runner that works unchanged on Node 24, Bun and Deno: one line per
 * case, then `N passed, N failed`, and a non-zero exit status on failure.
 *
 * @module
 */

import { difference } from "./equal.ts";

type Body = () => void | Promise<void>;

const cases: [string, Body][] = [];

interface Host {
  Deno?: { exit(code: number): never };
  Bun?: unknown;
  process?: { exit(code: number): never };
}
const host = globalThis as unknown as Host;

/** Which runtime runs the tests. */
export const runtime: "deno" | "bun" | "node" = host.Deno
  ? "deno"
  : host.Bun
  ? "bun"
  : "node";

/** Registers a case; `run` executes them in order. */
export function test(name: string, body: Body): void {
  cases.push([name, body]);
}

/** Runs every registered case, prints the summary and exits. */
export async function run(): Promise<void> {
  let passed = 0;
  let failed = 0;
  for (const [name, body] of cases) {
    try {
      await body();
      passed++;
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL - ${name}: ${e instanceof Error ? e.message : e}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  const code = failed === 0 ? 0 : 1;
  if (host.Deno) host.Deno.exit(code);
  host.process!.exit(code);
}

/** Throws unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Throws unless `actual` deeply equals `expected` (see equal.ts). */
export function assertEqual(
  actual: unknown,
  expected: unknown,
  what = "value",
): void {
  const d = difference(actual, expected);
  if (d !== null) throw new Error(`${what}: ${d}`);
}

/** Throws unless `body` throws an error of exactly class `cls` with `message`. */
export async function assertThrows(
  body: () => unknown,
  cls: ErrorConstructor,
  message: string,
): Promise<void> {
  let caught: unknown;
  try {
    await body();
  } catch (e) {
    caught = e;
  }
  assertError(caught, cls, message);
}

/** Throws unless `e` is an error of exactly class `cls` with `message`. */
export function assertError(
  e: unknown,
  cls: ErrorConstructor,
  message: string,
): void {
  if (e === undefined) throw new Error(`nothing thrown, expected ${cls.name}`);
  const got = e instanceof Error
    ? `${e.constructor.name} ${JSON.stringify(e.message)}`
    : String(e);
  const want = `${cls.name} ${JSON.stringify(message)}`;
  if (got !== want) throw new Error(`threw ${got}, expected ${want}`);
}

/** Lower-case hex of some bytes. */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Bytes from hex; spaces are ignored. */
export function fromHex(text: string): Uint8Array {
  const h = text.replace(/\s+/g, "");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(h.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}
