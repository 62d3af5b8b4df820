/**
 * kv.set (spec 4.2): result, overwrite, expireIn validation.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  versionstamp,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

/** expireIn values that fail `Number.isInteger(x) && x >= 0`, as printed. */
const BAD_EXPIRE: [unknown, string][] = [
  [-1, "-1"],
  [1.5, "1.5"],
  [NaN, "NaN"],
  [Infinity, "Infinity"],
  [null, "null"],
  ["100", "100"],
];

export const cases: Case[] = [
  {
    name: "kv.set: resolves to { ok: true, versionstamp }",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.set(["a"], 1);
        assertEquals(Object.keys(res), ["ok", "versionstamp"]);
        assertIs(res.ok, true);
        versionstamp(res.versionstamp);
      }),
  },
  {
    name:
      "kv.set: overwriting replaces the value and moves the versionstamp forward",
    run: (t) =>
      withKv(t, async (kv) => {
        const a = await kv.set(["a"], 1);
        const b = await kv.set(["a"], 2);
        const got = await kv.get(["a"]);
        assertIs(got.value, 2);
        assertIs(got.versionstamp, b.versionstamp);
        if (!(b.versionstamp! > a.versionstamp!)) {
          throw new Error("versionstamp did not increase");
        }
      }),
  },
  ...BAD_EXPIRE.map(([x, shown]): Case => ({
    name: `kv.set: expireIn ${shown} (${typeof x}) rejects with TypeError`,
    run: (t) =>
      withKv(t, (kv) =>
        assertRejects(
          () => kv.set(["a"], 1, { expireIn: x }),
          TypeError,
          `expireIn must be a non-negative integer: received ${shown}`,
        )),
  })),
  {
    name: "atomic.set: a bad expireIn throws synchronously at builder time",
    run: (t) =>
      withKv(t, (kv) =>
        Promise.resolve(
          assertThrows(
            () => kv.atomic().set(["a"], 1, { expireIn: -1 }),
            TypeError,
            "expireIn must be a non-negative integer: received -1",
          ),
        )),
  },
  {
    name:
      "atomic.mutate: a bad numeric expireIn throws; a non-number expireIn is ignored",
    run: (t) =>
      withKv(t, async (kv) => {
        assertThrows(
          () =>
            kv.atomic().mutate({
              type: "set",
              key: ["a"],
              value: 1,
              expireIn: 1.5,
            }),
          TypeError,
          "expireIn must be a non-negative integer: received 1.5",
        );
        await kv.atomic().mutate({
          type: "set",
          key: ["a"],
          value: 1,
          expireIn: "x",
        }).commit();
        assertIs((await kv.get(["a"])).value, 1);
      }),
  },
  {
    name:
      "kv.set: an expireIn too large for the date maths rejects; 1e15 is accepted",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 1, { expireIn: 1e15 });
        await assertRejects(
          () => kv.set(["a"], 1, { expireIn: 8.64e15 }),
          TypeError,
          "Invalid mutation: expireIn is too large: 8640000000000000",
        );
      }),
  },
  {
    name: "kv.set: expireIn undefined means no expiry",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 1, { expireIn: undefined });
        assertIs((await kv.get(["a"])).value, 1);
      }),
  },
];
