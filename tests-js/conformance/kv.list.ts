/**
 * kv.list (spec 1.5, 4.3): selectors, options and where each error surfaces.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertNextRejects,
  assertThrows,
  collect,
  listKeys,
  setAll,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike } from "../harness/types.ts";

/** ["a"], ["a", "a".."e"], ["b"]: the fixture most cases list over. */
async function fixture(kv: KvLike): Promise<void> {
  await setAll(kv, [["a"], ["a", "a"], ["a", "b"], ["a", "c"], ["a", "d"], [
    "a",
    "e",
  ], ["b"]]);
}

const A = (s: string) => ["a", s];

export const cases: Case[] = [
  {
    name: "kv.list: a prefix selector excludes the key equal to the prefix",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }),
          ["a", "b", "c", "d", "e"].map(A),
        );
      }),
  },
  {
    name: "kv.list: entries carry key, value and versionstamp",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.set(["p", 1], "x");
        const entries = await collect(kv.list({ prefix: ["p"] }));
        assertEquals(entries, [{
          key: ["p", 1],
          value: "x",
          versionstamp: res.versionstamp,
        }]);
      }),
  },
  {
    name: "kv.list: prefix with start begins at start, inclusive",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, { prefix: ["a"], start: A("c") }),
          ["c", "d", "e"].map(A),
        );
      }),
  },
  {
    name: "kv.list: prefix with end stops before end, exclusive",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, { prefix: ["a"], end: A("c") }),
          ["a", "b"].map(A),
        );
      }),
  },
  {
    name:
      "kv.list: start/end is half-open and may include the start key itself",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(await listKeys(kv, { start: ["a"], end: A("b") }), [
          ["a"],
          A("a"),
        ]);
        assertEquals(await listKeys(kv, { start: A("e"), end: ["c"] }), [
          A("e"),
          ["b"],
        ]);
      }),
  },
  {
    name: "kv.list: start equal to end yields nothing",
    run: (t) =>
      withKv(
        t,
        async (kv) =>
          assertEquals(await listKeys(kv, { start: ["a"], end: ["a"] }), []),
      ),
  },
  {
    name: "kv.list: reverse lists the same range descending",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }, { reverse: true }),
          ["e", "d", "c", "b", "a"].map(A),
        );
      }),
  },
  {
    name: "kv.list: a non-boolean truthy reverse is treated as false",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }, { reverse: "true" }),
          ["a", "b", "c", "d", "e"].map(A),
        );
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }, { reverse: 1 }),
          ["a", "b", "c", "d", "e"].map(A),
        );
      }),
  },
  {
    name: "kv.list: limit caps the number of entries, forward and reverse",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(await listKeys(kv, { prefix: ["a"] }, { limit: 2 }), [
          A("a"),
          A("b"),
        ]);
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }, { limit: 2, reverse: true }),
          [A("e"), A("d")],
        );
      }),
  },
  {
    name: "kv.list: a small batchSize still yields every entry in order",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = Array.from({ length: 25 }, (_, i) => ["n", i]);
        await setAll(kv, keys);
        assertEquals(
          await listKeys(kv, { prefix: ["n"] }, { batchSize: 2 }),
          keys,
        );
        assertEquals(
          await listKeys(kv, { prefix: ["n"] }, { batchSize: 3, limit: 7 }),
          keys.slice(0, 7),
        );
      }),
  },
  {
    name:
      "kv.list: more than 500 entries are listed with the default batch size",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = Array.from({ length: 700 }, (_, i) => ["n", i]);
        await setAll(kv, keys);
        assertIs((await listKeys(kv, { prefix: ["n"] })).length, 700);
        assertIs(
          (await listKeys(kv, { prefix: ["n"] }, { limit: 650 })).length,
          650,
        );
      }),
  },
  {
    name: "kv.list: a key written between batches is yielded",
    run: (t) =>
      withKv(t, async (kv) => {
        await setAll(kv, [["n", 1], ["n", 3]]);
        const it = kv.list({ prefix: ["n"] }, { batchSize: 1 });
        const first = await it.next();
        assertEquals(first.value?.key, ["n", 1]);
        await kv.set(["n", 2], "late");
        const rest = await collect(it);
        assertEquals(rest.map((e) => e.key), [["n", 2], ["n", 3]]);
      }),
  },
  {
    name: "kv.list: the iterator is its own async iterator and has no return()",
    run: (t) =>
      withKv(t, (kv) => {
        const it = kv.list({ prefix: [] });
        assert(
          it[Symbol.asyncIterator]() === it,
          "expected [Symbol.asyncIterator]() to return itself",
        );
        assertIs((it as { return?: unknown }).return, undefined, "return");
        return Promise.resolve();
      }),
  },
  {
    name: "kv.list: a string prefix is spread into single-character parts",
    run: (t) =>
      withKv(t, async (kv) => {
        await setAll(kv, [["a", "b", 1], ["ab", 1]]);
        assertEquals(await listKeys(kv, { prefix: "ab" }), [["a", "b", 1]]);
      }),
  },
  {
    name: "kv.list: a selector member that is undefined counts as absent",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, {
            prefix: ["a"],
            start: undefined,
            end: undefined,
          }),
          ["a", "b", "c", "d", "e"].map(A),
        );
      }),
  },
  {
    name: "kv.list: prefix with both start and end throws synchronously",
    run: (t) =>
      withKv(t, (kv) =>
        Promise.resolve(
          assertThrows(
            () => kv.list({ prefix: ["a"], start: A("a"), end: A("b") }),
            TypeError,
            "Selector can not specify both 'start' and 'end' key when specifying 'prefix'",
          ),
        )),
  },
  {
    name:
      "kv.list: only start, only end, or an empty selector throws synchronously",
    run: (t) =>
      withKv(t, (kv) => {
        const msg =
          "Selector must specify either 'prefix' or both 'start' and 'end' key";
        assertThrows(() => kv.list({ start: ["a"] }), TypeError, msg);
        assertThrows(() => kv.list({ end: ["a"] }), TypeError, msg);
        assertThrows(() => kv.list({}), TypeError, msg);
        return Promise.resolve();
      }),
  },
  {
    name: "kv.list: a null selector throws synchronously",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(assertThrows(
            () => kv.list(null),
            TypeError,
            "Cannot convert undefined or null to object",
          )),
      ),
  },
  {
    name: "kv.list: a start outside the prefix rejects on the first next()",
    run: (t) =>
      withKv(t, async (kv) => {
        const msg = "Start key is not in the keyspace defined by prefix";
        await assertNextRejects(
          () => kv.list({ prefix: ["a"], start: ["b"] }),
          TypeError,
          msg,
        );
        await assertNextRejects(
          () => kv.list({ prefix: ["a"], start: ["a"] }),
          TypeError,
          msg,
        );
      }),
  },
  {
    name: "kv.list: an end outside the prefix rejects on the first next()",
    run: (t) =>
      withKv(t, (kv) =>
        assertNextRejects(
          () => kv.list({ prefix: ["a"], end: ["b"] }),
          TypeError,
          "End key is not in the keyspace defined by prefix",
        )),
  },
  {
    name: "kv.list: start greater than end rejects on the first next()",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertNextRejects(
            () => kv.list({ start: ["b"], end: ["a"] }),
            TypeError,
            "Start key is greater than end key",
          ),
      ),
  },
  {
    name: "kv.list: a bad limit throws a plain Error synchronously",
    run: (t) =>
      withKv(t, (kv) => {
        for (
          const [x, shown] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], ["2", "2"], [
            null,
            "null",
          ]] as const
        ) {
          assertThrows(
            () => kv.list({ prefix: [] }, { limit: x }),
            Error,
            `Limit must be a positive integer: received ${shown}`,
          );
        }
        return Promise.resolve();
      }),
  },
  {
    name: "kv.list: a bad batchSize throws a plain Error synchronously",
    run: (t) =>
      withKv(t, (kv) => {
        for (
          const [x, shown] of [[0, "0"], [-2, "-2"], [0.5, "0.5"]] as const
        ) {
          assertThrows(
            () => kv.list({ prefix: [] }, { batchSize: x }),
            Error,
            `batchSize must be a positive integer: received ${shown}`,
          );
        }
        return Promise.resolve();
      }),
  },
  {
    name: "kv.list: an unknown consistency rejects on the first next()",
    run: (t) =>
      withKv(t, (kv) =>
        assertNextRejects(
          () => kv.list({ prefix: [] }, { consistency: "bogus" }),
          TypeError,
          "unknown variant `bogus`, expected `strong` or `eventual`",
        )),
  },
];
