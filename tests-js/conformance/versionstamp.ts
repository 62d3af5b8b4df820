/**
 * Versionstamps (spec 3): format, monotonicity, sharing within a commit, and
 * what does and does not move the version.
 *
 * @module
 */

import { assert, assertIs, versionstamp, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name:
      "versionstamp: 20 lowercase hex characters, the first commit of a fresh database is 1..9",
    run: (t) =>
      withKv(t, async (kv) => {
        const vs = versionstamp((await kv.set(["a"], 1)).versionstamp);
        // Bytes 0..7 are the version, 8..9 are zero; a fresh database starts at 0.
        assertIs(vs.slice(16), "0000", "last two bytes");
        const version = BigInt("0x" + vs.slice(0, 16));
        assert(
          version >= 1n && version <= 9n,
          `first version should be 1..9, got ${version}`,
        );
      }),
  },
  {
    name: "versionstamp: every kind of commit strictly increases it",
    run: (t) =>
      withKv(t, async (kv) => {
        const stamps = [
          (await kv.set(["a"], 1)).versionstamp!,
          (await kv.atomic().commit()).versionstamp!,
          (await kv.atomic().check({ key: ["x"], versionstamp: null }).commit())
            .versionstamp!,
          (await kv.enqueue("m", { delay: 60_000 })).versionstamp!,
          (await kv.atomic().sum(["n"], 1n).commit()).versionstamp!,
          (await kv.set(["a"], 2)).versionstamp!,
        ];
        await kv.delete(["missing"]);
        stamps.push((await kv.set(["a"], 3)).versionstamp!);
        for (let i = 1; i < stamps.length; i++) {
          assert(
            stamps[i] > stamps[i - 1],
            `not increasing at ${i}: ${stamps[i - 1]} then ${stamps[i]}`,
          );
        }
      }),
  },
  {
    name: "versionstamp: deleting a missing key still advances it",
    run: (t) =>
      withKv(t, async (kv) => {
        const a = (await kv.set(["a"], 1)).versionstamp!;
        await kv.delete(["missing"]);
        const b = (await kv.set(["a"], 1)).versionstamp!;
        // A bare version step is 1..9; two commits give at least 2.
        assert(
          BigInt("0x" + b.slice(0, 16)) - BigInt("0x" + a.slice(0, 16)) >= 2n,
          `${a} then ${b}`,
        );
      }),
  },
  {
    name: "versionstamp: a failed check does not move it",
    run: (t) =>
      withKv(t, async (kv) => {
        const a = (await kv.set(["a"], 1)).versionstamp!;
        assertIs(
          (await kv.atomic().check({ key: ["a"], versionstamp: null }).set([
            "b",
          ], 1).commit()).ok,
          false,
        );
        const b = (await kv.set(["c"], 1)).versionstamp!;
        const step = BigInt("0x" + b.slice(0, 16)) -
          BigInt("0x" + a.slice(0, 16));
        assert(
          step >= 1n && step <= 9n,
          `one commit's step expected, got ${step}`,
        );
      }),
  },
  {
    name: "versionstamp: concurrent commits get distinct versionstamps",
    run: (t) =>
      withKv(t, async (kv) => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => kv.set(["p", i], i)),
        );
        assertIs(
          new Set(results.map((r) => r.versionstamp)).size,
          20,
          "distinct versionstamps",
        );
        for (let i = 0; i < 20; i++) {
          assertIs(
            (await kv.get(["p", i])).versionstamp,
            results[i].versionstamp,
          );
        }
      }),
  },
  {
    name: "versionstamp: keeps increasing across reopening a file database",
    run: async (t) => {
      const path = t.tempPath();
      const a = await withKv(
        t,
        async (kv) => (await kv.set(["a"], 1)).versionstamp!,
        path,
      );
      const b = await withKv(t, async (kv) => {
        assertIs(
          (await kv.get(["a"])).versionstamp,
          a,
          "stored versionstamp after reopen",
        );
        return (await kv.set(["a"], 2)).versionstamp!;
      }, path);
      assert(b > a, `${a} then ${b}`);
    },
  },
];
