/**
 * Values (spec 2.1, 2.4): every structured-clone type round-trips through set
 * and get; Uint8Array is stored as bytes and KvU64 as LE64; lossy cases.
 *
 * @module
 */

import { assert, assertEquals, assertIs, withKv } from "../harness/helpers.ts";
import type { Case, KvLike } from "../harness/types.ts";

/** Writes `value` under ["v"] and returns what get reads back. */
async function roundTrip(kv: KvLike, value: unknown): Promise<unknown> {
  await kv.set(["v"], value);
  return (await kv.get(["v"])).value;
}

/** A case asserting that `make()` reads back deep-equal to itself. */
function same(label: string, make: () => unknown): Case {
  return {
    name: `values: ${label} round-trips`,
    run: (t) =>
      withKv(t, async (kv) => {
        assertEquals(await roundTrip(kv, make()), make(), label);
      }),
  };
}

class Point {
  x = 1;
  y = 2;
}

class MyBytes extends Uint8Array {}

export const cases: Case[] = [
  same("undefined", () => undefined),
  same("null", () => null),
  same("true and false", () => [true, false]),
  same(
    "small integers, -0, NaN, ±Infinity and doubles",
    () => [0, -1, 42, 2 ** 31, -0, NaN, Infinity, -Infinity, 1.5],
  ),
  same("bigints of every size", () => [0n, 42n, -5n, 2n ** 64n, -(2n ** 200n)]),
  same(
    "strings (one-byte, two-byte, emoji, empty)",
    () => ["", "hello", "é", "😀", "\u0000x", "a".repeat(1000)],
  ),
  same(
    "plain and nested objects",
    () => ({ a: 1, b: { c: [1, "x", null] }, "": 2, 7: "num" }),
  ),
  same("arrays, including sparse ones", () => [[1, 2], [1, , 3], []]),
  same(
    "Map and Set",
    () => [
      new Map<unknown, unknown>([["k", 1], [2, { x: 1 }]]),
      new Set([1, "a", 2n]),
    ],
  ),
  same("Date", () => [new Date(1), new Date(-1e12), new Date(NaN)]),
  same("RegExp with flags", () => [/x/gi, /a.b/su]),
  same(
    "boxed primitives",
    () => [new String("s"), new Number(2), new Boolean(false), Object(5n)],
  ),
  same("ArrayBuffer", () => new Uint8Array([1, 2, 3]).buffer),
  same("typed arrays other than Uint8Array keep their type", () => [
    new Int8Array([-1, 2]),
    new Uint16Array([1, 65535]),
    new Int32Array([-5]),
    new Float64Array([1.5, NaN]),
    new BigInt64Array([-1n]),
    new Uint8ClampedArray([255]),
  ]),
  same("DataView", () => new DataView(new Uint8Array([1, 2]).buffer)),
  same(
    "a Uint8Array nested inside an object",
    () => ({ b: new Uint8Array([1, 2]) }),
  ),
  same(
    "Error types",
    () => [new Error("boom"), new TypeError("t"), new RangeError("r")],
  ),
  {
    name: "values: a circular object round-trips with its back-reference",
    run: (t) =>
      withKv(t, async (kv) => {
        const o: Record<string, unknown> = { n: 1 };
        o.self = o;
        const back = await roundTrip(kv, o) as Record<string, unknown>;
        assert(
          back.self === back,
          "expected the back-reference to point at the object",
        );
        assertIs(back.n, 1);
      }),
  },
  {
    name: "values: a shared sub-object stays shared",
    run: (t) =>
      withKv(t, async (kv) => {
        const inner = { x: 1 };
        const back = await roundTrip(kv, [inner, inner]) as unknown[];
        assert(back[0] === back[1], "expected one object twice");
      }),
  },
  {
    name:
      "values: a Uint8Array reads back as a fresh plain Uint8Array with byteOffset 0",
    run: (t) =>
      withKv(t, async (kv) => {
        const src = new Uint8Array([1, 2, 3]);
        const back = await roundTrip(kv, src) as Uint8Array;
        assertEquals(back, new Uint8Array([1, 2, 3]));
        assertIs(back.byteOffset, 0, "byteOffset");
        assertIs(back.buffer.byteLength, 3, "buffer length");
        assert(back.buffer !== src.buffer, "expected its own buffer");
      }),
  },
  {
    name: "values: a Uint8Array subarray stores only its window",
    run: (t) =>
      withKv(t, async (kv) => {
        const window = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
        const back = await roundTrip(kv, window) as Uint8Array;
        assertEquals(back, new Uint8Array([8, 7]));
        assertIs(back.buffer.byteLength, 2, "buffer length");
      }),
  },
  {
    name:
      "values: a Uint8Array subclass is stored as bytes and reads back as a plain Uint8Array",
    run: (t) =>
      withKv(t, async (kv) => {
        const back = await roundTrip(kv, MyBytes.of(4, 5));
        assertEquals(back, new Uint8Array([4, 5]));
      }),
  },
  {
    name: "values: an empty Uint8Array round-trips",
    run: (t) =>
      withKv(
        t,
        async (kv) =>
          assertEquals(await roundTrip(kv, new Uint8Array()), new Uint8Array()),
      ),
  },
  {
    name: "values: a KvU64 reads back as a KvU64 of the same value",
    run: (t) =>
      withKv(t, async (kv) => {
        for (const n of [0n, 258n, 2n ** 64n - 1n]) {
          const back = await roundTrip(kv, new t.KvU64(n));
          assert(
            back instanceof t.KvU64,
            `expected a KvU64, got ${String(back)}`,
          );
          assertIs((back as { value: bigint }).value, n);
        }
      }),
  },
  {
    name:
      "values: a KvU64 nested in an object becomes a plain object { value }",
    run: (t) =>
      withKv(t, async (kv) => {
        const back = await roundTrip(kv, { n: new t.KvU64(5n) }) as {
          n: unknown;
        };
        assert(
          !(back.n instanceof t.KvU64),
          "expected a plain object, not a KvU64",
        );
        assertEquals(back, { n: { value: 5n } });
      }),
  },
  {
    name: "values: a class instance becomes a plain object of its own fields",
    run: (t) =>
      withKv(t, async (kv) => {
        const back = await roundTrip(kv, new Point());
        assertEquals(back, { x: 1, y: 2 });
        assertIs(Object.getPrototypeOf(back), Object.prototype, "prototype");
      }),
  },
  {
    name:
      "values: an object with a null prototype reads back as a plain object",
    run: (t) =>
      withKv(t, async (kv) => {
        const o = Object.create(null);
        o.a = 1;
        const back = await roundTrip(kv, o);
        assertIs(Object.getPrototypeOf(back), Object.prototype, "prototype");
        assertEquals(back, { a: 1 });
      }),
  },
  {
    name: "values: a URL is stored as an empty object",
    run: (t) =>
      withKv(
        t,
        async (kv) =>
          assertEquals(await roundTrip(kv, new URL("http://x/")), {}),
      ),
  },
  {
    name: "values: a value read twice yields two independent copies",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["o"], { a: [1] });
        const x = (await kv.get(["o"])).value as { a: number[] };
        x.a.push(2);
        assertEquals((await kv.get(["o"])).value, { a: [1] });
      }),
  },
];
