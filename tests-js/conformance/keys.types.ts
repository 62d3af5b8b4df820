/**
 * Key parts: accepted types and how they read back, rejected types and where
 * their error surfaces, whole-key errors, the empty key, and key identity
 * (spec 1.1).
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertNextRejects,
  assertRejects,
  assertThrows,
  listKeys,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

const BAD_PART = "expected string, number, bigint, ArrayBufferView, boolean";

/** Values that are not valid key parts. */
const badParts: [string, () => unknown][] = [
  ["null", () => null],
  ["undefined", () => undefined],
  ["a plain object", () => ({})],
  ["a Date", () => new Date(0)],
  ["an ArrayBuffer", () => new ArrayBuffer(2)],
  ["a nested array", () => ["a"]],
  ["a function", () => () => 1],
  ["a symbol", () => Symbol("s")],
  ["a boxed string", () => new String("s")],
  ["a boxed number", () => new Number(1)],
  ["a boxed bigint", () => Object(1n)],
];

export const cases: Case[] = [
  {
    name:
      "keys: string, number, bigint, boolean and Uint8Array parts round-trip",
    run: (t) =>
      withKv(t, async (kv) => {
        const key = [
          "s",
          1.5,
          -7n,
          true,
          false,
          new Uint8Array([0, 255]),
          NaN,
          -Infinity,
        ];
        await kv.set(key, "v");
        const got = await kv.get(key);
        assertEquals(got.key, key, "key");
        assertIs(got.value, "v");
      }),
  },
  {
    name:
      "keys: any ArrayBufferView part reads back as a plain Uint8Array of its bytes",
    run: (t) =>
      withKv(t, async (kv) => {
        const views: [unknown, number[]][] = [
          [new Uint16Array([1]), [1, 0]],
          [new Int8Array([-1]), [255]],
          [new Uint8ClampedArray([7]), [7]],
          [new DataView(new Uint8Array([3, 4]).buffer), [3, 4]],
          [new Uint8Array([9, 8, 7, 6]).subarray(1, 3), [8, 7]],
        ];
        for (const [view, expected] of views) {
          await kv.set(["v", view], 1);
          const [entry] = await listKeys(kv, { prefix: ["v"] });
          assertEquals(entry[1], new Uint8Array(expected), "part");
          await kv.delete(["v", view]);
        }
      }),
  },
  {
    name:
      "keys: a Uint16Array part and the Uint8Array of its bytes are the same key",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set([new Uint16Array([258])], "x");
        assertIs((await kv.get([new Uint8Array([2, 1])])).value, "x");
      }),
  },
  ...badParts.map(([label, make]): Case => ({
    name: `kv.set: a key part that is ${label} rejects with TypeError`,
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(() => kv.set(["a", make()], 1), TypeError, BAD_PART),
      ),
  })),
  ...badParts.slice(0, 3).map(([label, make]): Case => ({
    name: `kv.get: a key part that is ${label} rejects with TypeError`,
    run: (t) =>
      withKv(
        t,
        (kv) => assertRejects(() => kv.get([make()]), TypeError, BAD_PART),
      ),
  })),
  {
    name: "kv.delete: an invalid key part rejects with TypeError",
    run: (t) =>
      withKv(
        t,
        (kv) => assertRejects(() => kv.delete([{}]), TypeError, BAD_PART),
      ),
  },
  {
    name: "kv.getMany: an invalid key part rejects with TypeError",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(() => kv.getMany([["a"], [null]]), TypeError, BAD_PART),
      ),
  },
  {
    name:
      "atomic.commit: an invalid key part in set rejects at commit, not at set()",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic().set([{}], 1);
        await assertRejects(() => op.commit(), TypeError, BAD_PART);
      }),
  },
  {
    name: "kv.watch: an invalid key part throws TypeError synchronously",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(
            assertThrows(() => kv.watch([[null]]), TypeError, BAD_PART),
          ),
      ),
  },
  {
    name: "kv.list: an invalid prefix part rejects on the first next()",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertNextRejects(
            () => kv.list({ prefix: [new Date()] }),
            TypeError,
            BAD_PART,
          ),
      ),
  },
  {
    name: "kv.set: a key that is a string rejects with the serde array error",
    run: (t) =>
      withKv(t, (kv) =>
        assertRejects(
          () => kv.set("abc", 1),
          TypeError,
          "serde_v8 error: invalid type; expected: array, got: string",
        )),
  },
  {
    name:
      "kv.get: a key that is a plain object rejects with the serde array error",
    run: (t) =>
      withKv(t, (kv) =>
        assertRejects(
          () => kv.get({}),
          TypeError,
          "serde_v8 error: invalid type; expected: array, got: unknown",
        )),
  },
  {
    name: "kv.set: a null key rejects with the property-read TypeError",
    run: (t) =>
      withKv(t, (kv) =>
        assertRejects(
          () => kv.set(null, 1),
          TypeError,
          "Cannot read properties of null (reading 'length')",
        )),
  },
  {
    name: "kv.get: a null or undefined key rejects with Invalid range",
    run: (t) =>
      withKv(t, async (kv) => {
        await assertRejects(() => kv.get(null), TypeError, "Invalid range");
        await assertRejects(
          () => kv.get(undefined),
          TypeError,
          "Invalid range",
        );
      }),
  },
  {
    name: "keys: the empty key is rejected by every write path",
    run: (t) =>
      withKv(t, async (kv) => {
        const msg = "key cannot be empty";
        await assertRejects(() => kv.set([], 1), TypeError, msg);
        await assertRejects(() => kv.delete([]), TypeError, msg);
        await assertRejects(
          () => kv.atomic().check({ key: [], versionstamp: null }).commit(),
          TypeError,
          msg,
        );
        await assertRejects(
          () => kv.atomic().sum([], 1n).commit(),
          TypeError,
          msg,
        );
        await assertRejects(
          () => kv.atomic().mutate({ type: "set", key: [], value: 1 }).commit(),
          TypeError,
          msg,
        );
      }),
  },
  {
    name: "keys: the empty key is allowed on reads and is absent",
    run: (t) =>
      withKv(t, async (kv) => {
        assertEquals(await kv.get([]), {
          key: [],
          value: null,
          versionstamp: null,
        });
        assertEquals(await kv.getMany([[]]), [{
          key: [],
          value: null,
          versionstamp: null,
        }]);
        const reader = kv.watch([[]]).getReader();
        const first = await reader.read();
        assertEquals(first.value, [{
          key: [],
          value: null,
          versionstamp: null,
        }]);
        await reader.cancel();
      }),
  },
  {
    name: "keys: a lone surrogate is stored as U+FFFD",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["\uD800"], "lone");
        assertIs((await kv.get(["\uFFFD"])).value, "lone");
        const [entry] = await kv.getMany([["\uD800"]]);
        assertEquals(entry.key, ["\uFFFD"], "decoded key");
      }),
  },
  {
    name: "keys: [1] and [1n] are different keys",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set([1], "number");
        assertIs((await kv.get([1n])).value, null);
        await kv.set([1n], "bigint");
        assertIs((await kv.get([1])).value, "number");
        assertIs((await kv.get([1n])).value, "bigint");
      }),
  },
  {
    name: "keys: [0] and [-0] are different keys",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set([0], "zero");
        assertIs((await kv.get([-0])).value, null);
        await kv.set([-0], "minus");
        assertIs((await kv.get([0])).value, "zero");
        const keys = await listKeys(kv, { prefix: [] });
        assertEquals(keys, [[-0], [0]]);
      }),
  },
  {
    name: "keys: every NaN is the same key",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set([NaN], "nan");
        assertIs((await kv.get([Number("x")])).value, "nan");
        assertIs((await kv.get([0 / 0])).value, "nan");
      }),
  },
  {
    name:
      "kv.get: a missing entry hands back the caller's own key array; a found one a new array",
    run: (t) =>
      withKv(t, async (kv) => {
        const key = ["k"];
        assert(
          (await kv.get(key)).key === key,
          "missing: expected the same array",
        );
        const [many] = await kv.getMany([key]);
        assert(many.key === key, "getMany missing: expected the same array");
        await kv.set(key, 1);
        const found = await kv.get(key);
        assert(found.key !== key, "found: expected a fresh array");
        assertEquals(found.key, key);
      }),
  },
  {
    name: "keys: a bigint part needing more than 255 bytes is rejected",
    run: (t) =>
      withKv(t, async (kv) => {
        const huge = 1n << 2048n;
        const msg = "BigUint requires more than 255 bytes to be represented";
        await assertRejects(
          () => kv.set([huge], 1),
          TypeError,
          `Invalid mutation: ${msg}`,
        );
        await assertRejects(
          () => kv.delete([huge]),
          TypeError,
          `Invalid mutation: ${msg}`,
        );
        await assertRejects(() => kv.get([huge]), TypeError, msg);
        await assertNextRejects(
          () => kv.list({ prefix: [huge] }),
          TypeError,
          msg,
        );
        await assertRejects(
          () => kv.atomic().check({ key: [huge], versionstamp: null }).commit(),
          TypeError,
          "Invalid check",
        );
        await assertRejects(
          () => kv.enqueue(1, { keysIfUndelivered: [[huge]] }),
          TypeError,
          "Invalid enqueue",
        );
      }),
  },
  {
    name: "keys: a bigint part of 255 bytes is accepted, positive and negative",
    run: (t) =>
      withKv(t, async (kv) => {
        const big = (1n << 2040n) - 1n;
        await kv.set([big], "p");
        await kv.set([-big], "n");
        assertIs((await kv.get([big])).value, "p");
        assertIs((await kv.get([-big])).value, "n");
      }),
  },
];
