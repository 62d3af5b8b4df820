/**
 * Atomic checks (spec 3, 4.4, 4.5): pass and fail rules, validation at commit.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertRejects,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name: "atomic.check: a matching versionstamp commits",
    run: (t) =>
      withKv(t, async (kv) => {
        const { versionstamp } = await kv.set(["a"], 1);
        const res = await kv.atomic().check({ key: ["a"], versionstamp }).set([
          "a",
        ], 2).commit();
        assertIs(res.ok, true);
        assertIs((await kv.get(["a"])).value, 2);
      }),
  },
  {
    name:
      "atomic.check: a stale versionstamp fails with exactly { ok: false } and writes nothing",
    run: (t) =>
      withKv(t, async (kv) => {
        const first = await kv.set(["a"], 1);
        await kv.set(["a"], 2);
        const res = await kv.atomic().check({
          key: ["a"],
          versionstamp: first.versionstamp,
        }).set(["a"], 3).set(["b"], 1).commit();
        assertEquals(res, { ok: false });
        assertIs((await kv.get(["a"])).value, 2);
        assertIs((await kv.get(["b"])).versionstamp, null);
      }),
  },
  {
    name: "atomic.check: versionstamp null means the key must not exist",
    run: (t) =>
      withKv(t, async (kv) => {
        assertIs(
          (await kv.atomic().check({ key: ["a"], versionstamp: null }).set([
            "a",
          ], 1).commit()).ok,
          true,
        );
        assertIs(
          (await kv.atomic().check({ key: ["a"], versionstamp: null }).set([
            "a",
          ], 2).commit()).ok,
          false,
        );
      }),
  },
  {
    name: "atomic.check: an undefined versionstamp is treated as null",
    run: (t) =>
      withKv(t, async (kv) => {
        assertIs((await kv.atomic().check({ key: ["a"] }).commit()).ok, true);
        await kv.set(["a"], 1);
        assertIs((await kv.atomic().check({ key: ["a"] }).commit()).ok, false);
      }),
  },
  {
    name: "atomic.check: a KvEntryMaybe from get can be passed directly",
    run: (t) =>
      withKv(t, async (kv) => {
        const missing = await kv.get(["a"]);
        assertIs(
          (await kv.atomic().check(missing).set(["a"], 1).commit()).ok,
          true,
        );
        const found = await kv.get(["a"]);
        assertIs(
          (await kv.atomic().check(found).set(["a"], 2).commit()).ok,
          true,
        );
        assertIs(
          (await kv.atomic().check(found).set(["a"], 3).commit()).ok,
          false,
        );
      }),
  },
  {
    name: "atomic.check: an uppercase copy of the versionstamp passes",
    run: (t) =>
      withKv(t, async (kv) => {
        const { versionstamp } = await kv.set(["a"], 1);
        const res = await kv.atomic().check({
          key: ["a"],
          versionstamp: versionstamp!.toUpperCase(),
        }).commit();
        assertIs(res.ok, true);
      }),
  },
  {
    name: "atomic.check: several checks must all pass",
    run: (t) =>
      withKv(t, async (kv) => {
        const a = await kv.set(["a"], 1);
        const res = await kv.atomic()
          .check({ key: ["a"], versionstamp: a.versionstamp }, {
            key: ["b"],
            versionstamp: "00000000000000010000",
          })
          .commit();
        assertEquals(res, { ok: false });
      }),
  },
  {
    name:
      "atomic.check: a versionstamp that is not 20 hex characters rejects with Invalid check",
    run: (t) =>
      withKv(t, async (kv) => {
        for (
          const vs of ["", "xx".repeat(10), "0".repeat(22), "0".repeat(19)]
        ) {
          await assertRejects(
            () => kv.atomic().check({ key: ["a"], versionstamp: vs }).commit(),
            TypeError,
            "Invalid check",
          );
        }
      }),
  },
  {
    name:
      "atomic.check: a non-string versionstamp rejects with the serde error",
    run: (t) =>
      withKv(t, (kv) =>
        assertRejects(
          () => kv.atomic().check({ key: ["a"], versionstamp: 5 }).commit(),
          TypeError,
          "serde_v8 error: invalid type; expected: string, got: Number",
        )),
  },
  {
    name: "atomic.check: a check alone commits and returns a versionstamp",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.atomic().check({ key: ["a"], versionstamp: null })
          .commit();
        assertIs(res.ok, true);
        assertIs(typeof res.versionstamp, "string");
      }),
  },
];
