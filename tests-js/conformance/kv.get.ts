/**
 * kv.get (spec 4.1): result shape, consistency option.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertRejects,
  versionstamp,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name:
      "kv.get: a missing key resolves to { key, value: null, versionstamp: null }",
    run: (t) =>
      withKv(t, async (kv) => {
        const got = await kv.get(["nope"]);
        assertEquals(got, { key: ["nope"], value: null, versionstamp: null });
        assertEquals(
          Object.keys(got),
          ["key", "value", "versionstamp"],
          "field order",
        );
      }),
  },
  {
    name:
      "kv.get: a stored key resolves to its value and the set's versionstamp",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.set(["a"], { x: 1 });
        const got = await kv.get(["a"]);
        assertEquals(got.value, { x: 1 });
        assertIs(got.versionstamp, versionstamp(res.versionstamp));
      }),
  },
  {
    name: "kv.get: consistency strong and eventual both read the latest value",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 1);
        assertIs((await kv.get(["a"], { consistency: "strong" })).value, 1);
        assertIs((await kv.get(["a"], { consistency: "eventual" })).value, 1);
      }),
  },
  {
    name: "kv.get: an unknown consistency rejects with the serde variant error",
    run: (t) =>
      withKv(t, (kv) =>
        assertRejects(
          () => kv.get(["a"], { consistency: "bogus" }),
          TypeError,
          "unknown variant `bogus`, expected `strong` or `eventual`",
        )),
  },
  {
    name: "kv.get: a value stored as null is found, with a versionstamp",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], null);
        const got = await kv.get(["n"]);
        assertIs(got.value, null);
        versionstamp(got.versionstamp);
      }),
  },
];
