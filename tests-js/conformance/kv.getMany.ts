/**
 * kv.getMany (spec 4.1): order, duplicates, the empty list.
 *
 * @module
 */

import { assertEquals, assertIs, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name: "kv.getMany: results come in input order, missing keys included",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["b"], "B");
        await kv.set(["a"], "A");
        const got = await kv.getMany([["b"], ["x"], ["a"]]);
        assertEquals(got.map((e) => e.value), ["B", null, "A"]);
        assertEquals(got.map((e) => e.key), [["b"], ["x"], ["a"]]);
      }),
  },
  {
    name: "kv.getMany: duplicate keys are allowed and each gets an entry",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 1);
        const got = await kv.getMany([["a"], ["a"]]);
        assertEquals(got.map((e) => e.value), [1, 1]);
        assertIs(got[0].versionstamp, got[1].versionstamp);
      }),
  },
  {
    name: "kv.getMany: an empty list resolves to []",
    run: (t) => withKv(t, async (kv) => assertEquals(await kv.getMany([]), [])),
  },
];
