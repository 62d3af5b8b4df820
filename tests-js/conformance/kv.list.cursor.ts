/**
 * List cursors (spec 4.3): exact cursor strings, exhaustion, resuming and the
 * cursor errors.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertNextRejects,
  assertThrows,
  listKeys,
  setAll,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike } from "../harness/types.ts";

async function fixture(kv: KvLike): Promise<void> {
  await setAll(kv, [["a"], ["a", "a"], ["a", "b"], ["a", "c"], ["a", "d"], [
    "b",
  ]]);
}

const A = (s: string) => ["a", s];

export const cases: Case[] = [
  {
    name: "kv.list: cursor before the first next() throws a plain Error",
    run: (t) =>
      withKv(t, (kv) => {
        const it = kv.list({ prefix: [] });
        assertThrows(
          () => it.cursor,
          Error,
          "Cannot get cursor before first iteration",
        );
        return Promise.resolve();
      }),
  },
  {
    name:
      "kv.list: cursor before the first next() is the cursor option when one was given",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(
            assertIs(
              kv.list({ prefix: ["a"] }, { cursor: "AmIA" }).cursor,
              "AmIA",
            ),
          ),
      ),
  },
  {
    name:
      "kv.list: the cursor is padded url-safe base64 of the key after the prefix",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        const it = kv.list({ prefix: ["a"] });
        await it.next();
        assertIs(it.cursor, "AmEA", "after [a, a]");
        await it.next();
        assertIs(it.cursor, "AmIA", "after [a, b]");
      }),
  },
  {
    name: "kv.list: the cursor of the empty prefix covers the whole key",
    run: (t) =>
      withKv(t, async (kv) => {
        await setAll(kv, [["a"]]);
        const it = kv.list({ prefix: [] });
        await it.next();
        assertIs(it.cursor, "AmEA");
      }),
  },
  {
    name: "kv.list: the reverse cursor is the last yielded key",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        const it = kv.list({ prefix: ["a"] }, { reverse: true });
        await it.next();
        assertIs(it.cursor, "AmQA");
      }),
  },
  {
    name:
      "kv.list: a start/end cursor strips the common byte prefix of start and end",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        const it = kv.list({ start: A("b"), end: A("z") });
        await it.next();
        await it.next();
        assertIs(it.cursor, "YwA=", "after [a, c]");
      }),
  },
  {
    name: "kv.list: the cursor is the empty string once the range runs out",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        for (
          const options of [{}, { batchSize: 2 }, { batchSize: 4 }, {
            limit: 5,
          }]
        ) {
          const it = kv.list({ prefix: ["a"] }, options);
          const cursors: string[] = [];
          while (!(await it.next()).done) cursors.push(it.cursor);
          assertEquals(
            cursors,
            ["AmEA", "AmIA", "AmMA", "AmQA"],
            `cursors with ${JSON.stringify(options)}`,
          );
          assertIs(
            it.cursor,
            "",
            `cursor when done with ${JSON.stringify(options)}`,
          );
        }
      }),
  },
  {
    name:
      "kv.list: when the limit ends iteration the cursor stays at the last key",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        for (const limit of [2, 4]) {
          const it = kv.list({ prefix: ["a"] }, { limit });
          while (!(await it.next()).done);
          assertIs(
            it.cursor,
            limit === 2 ? "AmIA" : "AmQA",
            `cursor after limit ${limit}`,
          );
        }
      }),
  },
  {
    name:
      "kv.list: resuming from a cursor continues after that key, forward and reverse",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }, { cursor: "AmIA" }),
          [A("c"), A("d")],
        );
        assertEquals(
          await listKeys(kv, { prefix: ["a"] }, {
            cursor: "AmMA",
            reverse: true,
          }),
          [A("b"), A("a")],
        );
      }),
  },
  {
    name: "kv.list: paging with limit and cursor visits every key once",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = Array.from({ length: 7 }, (_, i) => ["p", i]);
        await setAll(kv, keys);
        const seen: unknown[][] = [];
        let cursor = "";
        for (let page = 0; page < 10; page++) {
          const it = kv.list({ prefix: ["p"] }, { limit: 3, cursor });
          for await (const e of it) seen.push(e.key);
          cursor = it.cursor;
          if (cursor === "") break;
        }
        assertEquals(seen, keys);
      }),
  },
  {
    name: "kv.list: an empty cursor string counts as no cursor",
    run: (t) =>
      withKv(t, async (kv) => {
        await fixture(kv);
        assertIs(
          (await listKeys(kv, { prefix: ["a"] }, { cursor: "" })).length,
          4,
        );
      }),
  },
  {
    name:
      "kv.list: a cursor needs its padding; unpadded or non-url-safe rejects on next()",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.list({ prefix: [] }, { cursor: "Ag==" }).next();
        for (const c of ["Ag", "A+==", "A/==", "!!!!"]) {
          await assertNextRejects(
            () => kv.list({ prefix: [] }, { cursor: c }),
            TypeError,
            "invalid cursor",
          );
        }
      }),
  },
  {
    name:
      "kv.list: a cursor from another selector that lands outside the range rejects",
    run: (t) =>
      withKv(t, (kv) =>
        assertNextRejects(
          () => kv.list({ start: A("b"), end: A("z") }, { cursor: "AmIA" }),
          TypeError,
          "cursor out of bounds",
        )),
  },
  {
    name: "kv.list: a non-string cursor rejects on next() with the serde error",
    run: (t) =>
      withKv(t, (kv) =>
        assertNextRejects(
          () => kv.list({ prefix: [] }, { cursor: 5 }),
          TypeError,
          "serde_v8 error: invalid type; expected: string, got: Number",
        )),
  },
];
