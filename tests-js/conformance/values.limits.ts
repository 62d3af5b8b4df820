/**
 * What no runtime's stack or memory could carry: values nested too deep
 * and key parts over 1 GiB are refused when written, with the errors Deno
 * gives (a RangeError for the depth, "Key too large" for the key), on every
 * runtime alike, and nothing is written.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  collect,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike, Target } from "../harness/types.ts";

/** kvq's nesting limit (jsr/src/v8/depth.ts MAX_DEPTH). */
const MAX_DEPTH = 1000;

/** kvq's refusal of a value nested deeper than {@link MAX_DEPTH}. */
const TOO_DEEP =
  `Value too deeply nested: more than ${MAX_DEPTH} levels of objects, arrays, maps, sets or errors`;

/** The shapes that nest, each level around the next, down to 0. */
const SHAPES: [string, (inner: unknown) => unknown][] = [
  ["an array", (v) => [v]],
  ["an object", (v) => ({ a: v })],
  ["a set", (v) => new Set([v])],
  ["a map", (v) => new Map([[0, v]])],
  ["a sparse array", (v) => {
    const a: unknown[] = [];
    a[5] = v;
    return a;
  }],
];

function nest(wrap: (inner: unknown) => unknown, depth: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
}

/**
 * Deno refuses such a value when its serializer runs out of stack, with
 * V8's message; kvq at its limit, with its own. Both are RangeErrors.
 */
function tooDeep(t: Target): RegExp | string {
  return t.isDenoNative ? "Maximum call stack size exceeded" : TOO_DEEP;
}

/** A Uint8Array just over 1 GiB (zeroed pages, never touched). */
function hugePart(): Uint8Array {
  return new Uint8Array(2 ** 30 + 1);
}

/** Real Deno copies such a key several times: ~10 s and ~8 GB per call. */
function notOnDeno(t: Target): string | undefined {
  return t.isDenoNative
    ? "Deno takes ~10 s and ~8 GB of memory per call (observed: same errors)"
    : undefined;
}

const WRITE = "Key too large for write (max 2048 bytes)";
const READ = "Key too large for read (max 2049 bytes)";

export const cases: Case[] = [
  ...SHAPES.map(([shape, wrap]): Case => ({
    name:
      `kv.set: ${shape} nested ${MAX_DEPTH} deep is written and read back by get and list`,
    run: (t) =>
      withKv(t, async (kv) => {
        const value = nest(wrap, MAX_DEPTH);
        await kv.set(["deep", shape], value);
        assertEquals((await kv.get(["deep", shape])).value, value);
        const listed = await collect(kv.list({ prefix: ["deep"] }));
        assertIs(listed.length, 1, "entries listed");
      }),
  })),
  ...SHAPES.map(([shape, wrap]): Case => ({
    name:
      `kv.set: ${shape} nested 20,000 deep is refused with a RangeError, and nothing is written`,
    run: (t) =>
      withKv(t, async (kv) => {
        const value = nest(wrap, 20_000);
        await assertRejects(
          () => kv.set(["deep"], value),
          RangeError,
          tooDeep(t),
        );
        assertIs((await kv.get(["deep"])).versionstamp, null, "written");
        await assertRejects(
          () => kv.enqueue(value),
          RangeError,
          tooDeep(t),
        );
        assertThrows(
          () => kv.atomic().set(["deep"], value),
          RangeError,
          tooDeep(t),
        );
      }),
  })),
  {
    name:
      "kv.set: a value just over kvq's nesting limit is refused on kvq (Deno's own limit depends on its stack)",
    skip: (t) => t.isDenoNative ? "Deno has no fixed limit" : undefined,
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["ok"], nest((v) => [v], MAX_DEPTH));
        await assertRejects(
          () => kv.set(["deep"], { a: nest((v) => [v], MAX_DEPTH) }),
          RangeError,
          TOO_DEEP,
        );
      }),
  },
  {
    name:
      "kv.set: a key part over 1 GiB rejects with Key too large, at once, for every write",
    skip: notOnDeno,
    run: (t) =>
      withKv(t, async (kv) => {
        const big = hugePart();
        const started = Date.now();
        await assertRejects(() => kv.set([big], 1), TypeError, WRITE);
        await assertRejects(() => kv.set(["a", big], 1), TypeError, WRITE);
        await assertRejects(() => kv.delete([big]), TypeError, WRITE);
        await assertRejects(
          () => kv.atomic().check({ key: [big], versionstamp: null }).commit(),
          TypeError,
          WRITE,
        );
        await assertRejects(
          () => kv.atomic().sum([big], 1n).commit(),
          TypeError,
          WRITE,
        );
        assertTakes(started, "the writes");
      }),
  },
  {
    name:
      "kv.get: a key part over 1 GiB rejects with Key too large, at once, for every read",
    skip: notOnDeno,
    run: (t) =>
      withKv(t, async (kv) => {
        const big = hugePart();
        const started = Date.now();
        await assertRejects(() => kv.get([big]), TypeError, READ);
        await assertRejects(() => kv.getMany([["a"], [big]]), TypeError, READ);
        await assertRejects(
          () => collect(kv.list({ prefix: [big] })),
          TypeError,
          READ,
        );
        await assertRejects(
          () => collect(kv.list({ start: [big], end: ["z"] })),
          TypeError,
          READ,
        );
        assertThrows(() => kv.watch([[big]]), TypeError, READ);
        assertTakes(started, "the reads");
      }),
  },
  {
    name:
      "kv.enqueue: a keysIfUndelivered key with a part over 1 GiB rejects with a TypeError",
    // Deno sets no size limit on these keys; kvq refuses what it could
    // never store rather than dead-letter under another key.
    skip: (t) => t.isDenoNative ? "kvq's own refusal" : undefined,
    run: (t) =>
      withKv(t, async (kv: KvLike) => {
        const big = hugePart();
        const message =
          "Key too large for keysIfUndelivered (max 1073741824 bytes per part)";
        await assertRejects(
          () => kv.enqueue(1, { keysIfUndelivered: [["ok"], [big]] }),
          TypeError,
          message,
        );
        await assertRejects(
          () => kv.atomic().enqueue(1, { keysIfUndelivered: [[big]] }).commit(),
          TypeError,
          message,
        );
      }),
  },
];

/** Fails when more than a second went by since `started`. */
function assertTakes(started: number, what: string): void {
  const ms = Date.now() - started;
  assert(ms < 1000, `${what} took ${ms} ms`);
}
