/**
 * Helpers for conformance cases: a fresh database per case, waiting, reading
 * iterators and streams, and the assertions (re-exported from assert.ts) so a
 * case file imports from one place.
 *
 * @module
 */

import type { KvEntryLike, KvLike, Target } from "./types.ts";

export {
  assert,
  assertEquals,
  assertError,
  assertIs,
  assertNextRejects,
  assertRejects,
  assertThrows,
  describe,
  show,
} from "./assert.ts";

/**
 * Opens a fresh database (a new temp file unless `path` is given), runs `fn`
 * and always closes it, even when `fn` already did or failed.
 */
export async function withKv<T>(
  t: Target,
  fn: (kv: KvLike) => Promise<T>,
  path?: string,
  options?: Record<string, unknown>,
): Promise<T> {
  const kv = await t.openKv(path ?? t.tempPath(), options);
  try {
    return await fn(kv);
  } finally {
    closeQuietly(kv);
  }
}

/** Closes `kv`, ignoring the error of a second close. */
export function closeQuietly(kv: KvLike): void {
  try {
    kv.close();
  } catch {
    // Already closed by the case itself: that is fine here.
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `cond` every `intervalMs` until it returns true; fails with `what`
 * after `timeoutMs`.
 */
export async function sleepUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
  intervalMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Races `p` against a timer: resolves to `p`'s value, or to `onTimeout` after
 * `ms` milliseconds. The timer is always cleared.
 */
export async function within<T, U>(
  p: Promise<T>,
  ms: number,
  onTimeout: U,
): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `p`'s value, or an Error `<what>: timed out` after `ms` milliseconds. */
export async function orTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  const timedOut = Symbol("timed out");
  const result = await within(p, ms, timedOut);
  if (result === timedOut) throw new Error(`${what}: timed out`);
  return result as T;
}

/**
 * Starts a queue listener with `listen` and resolves with the first message
 * it hands its handler, or with `onTimeout` after `ms` milliseconds. A
 * listener that fails rejects.
 */
export function firstMessage<U>(
  listen: (handler: (message: unknown) => void) => Promise<void>,
  ms: number,
  onTimeout: U,
): Promise<unknown> {
  let first!: (message: unknown) => void;
  const message = new Promise<unknown>((resolve) => first = resolve);
  // A listener that ends without a message leaves the timeout to answer.
  const failed = listen(first).then(() => message);
  return within(Promise.race([message, failed]), ms, onTimeout);
}

/** Drains a list iterator (or any async iterable) into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Lists `selector` with `options` and returns only the keys. */
export async function listKeys(
  kv: KvLike,
  selector: unknown,
  options?: unknown,
): Promise<unknown[][]> {
  return (await collect(kv.list(selector, options))).map((e) => e.key);
}

/** Sets every key to its index in one atomic commit. */
export async function setAll(
  kv: KvLike,
  keys: unknown[][],
  value?: unknown,
): Promise<void> {
  const op = kv.atomic();
  keys.forEach((k, i) => op.set(k, value === undefined ? i : value));
  const res = await op.commit();
  if (!res.ok) throw new Error("setAll: commit failed");
}

/** A 20-hex-character versionstamp, as Deno formats it. */
export const VERSIONSTAMP_RE = /^[0-9a-f]{20}$/;

/** Asserts `vs` is a 20 lowercase hex character versionstamp and returns it. */
export function versionstamp(vs: unknown): string {
  if (typeof vs !== "string" || !VERSIONSTAMP_RE.test(vs)) {
    throw new Error(`not a versionstamp: ${String(vs)}`);
  }
  return vs;
}

/** Reads the next chunk of a watch stream, failing after `ms`. */
export async function nextChunk(
  reader: ReadableStreamDefaultReader<KvEntryLike[]>,
  ms = 3000,
): Promise<KvEntryLike[]> {
  const r = await within(reader.read(), ms, "timeout" as const);
  if (r === "timeout") throw new Error(`no watch chunk within ${ms} ms`);
  if (r.done) throw new Error("watch stream ended unexpectedly");
  return r.value;
}

/** Resolves true if the reader yields a chunk within `ms`, false otherwise. */
export async function chunkWithin(
  reader: ReadableStreamDefaultReader<KvEntryLike[]>,
  ms: number,
): Promise<KvEntryLike[] | null> {
  // A pending read stays pending after the race; the caller cancels the reader.
  const r = await within(reader.read(), ms, "timeout" as const);
  if (r === "timeout" || r.done) return null;
  return r.value;
}

/** The bytes 0..n-1 (mod 256), or `fill` repeated. */
export function bytes(n: number, fill?: number): Uint8Array {
  const b = new Uint8Array(n);
  if (fill !== undefined) b.fill(fill);
  else for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
}

/** A string of `n` ASCII characters. */
export function ascii(n: number, ch = "x"): string {
  return ch.repeat(n);
}

/**
 * Starts a queue listener that records every delivered message and the time
 * it arrived; the handler throws when `fail(msg, attempt)` returns true
 * (`attempt` counts deliveries of an identical message, from 1).
 */
export function recordDeliveries(
  kv: KvLike,
  fail: (msg: unknown, attempt: number) => boolean = () => false,
) {
  const seen: unknown[] = [];
  const times: number[] = [];
  const done = kv.listenQueue((msg: unknown) => {
    seen.push(msg);
    times.push(Date.now());
    if (fail(msg, seen.filter((m) => Object.is(m, msg)).length)) {
      throw new Error("handler failure (expected)");
    }
  });
  return { seen, times, done };
}
