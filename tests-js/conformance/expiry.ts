/**
 * Expiry (spec 4.2; COMPATIBILITY.md section 2): Deno keeps expired values
 * readable until its collector runs; kvq never returns an expired entry.
 *
 * @module
 */

import { assertIs, sleep, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name:
      "expiry: a value set with expireIn 0 is readable on Deno, never on kvq",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["e"], "v", { expireIn: 0 });
        const got = await kv.get(["e"]);
        // Deviation: Deno reads do not filter expired rows.
        assertIs(got.value, t.isDenoNative ? "v" : null, "value after expiry");
      }),
  },
  {
    name:
      "expiry: a value past its expireIn is readable on Deno, gone on kvq (get, getMany, list)",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["e", 1], "v", { expireIn: 20 });
        await sleep(60);
        const want = t.isDenoNative ? "v" : null;
        assertIs((await kv.get(["e", 1])).value, want, "get");
        assertIs((await kv.getMany([["e", 1]]))[0].value, want, "getMany");
        const listed = [];
        for await (const e of kv.list({ prefix: ["e"] })) listed.push(e);
        assertIs(listed.length, t.isDenoNative ? 1 : 0, "list length");
      }),
  },
  {
    name: "expiry: expired keys are gone after reopening a file database",
    run: async (t) => {
      const path = t.tempPath();
      await withKv(t, (kv) => kv.set(["e"], "v", { expireIn: 1 }), path);
      await sleep(20);
      await withKv(
        t,
        async (kv) => assertIs((await kv.get(["e"])).value, null),
        path,
      );
    },
  },
  {
    name: "expiry: a plain set clears an earlier expiry",
    run: async (t) => {
      const path = t.tempPath();
      await withKv(t, async (kv) => {
        await kv.set(["e"], "v", { expireIn: 1 });
        await kv.set(["e"], "w");
      }, path);
      await sleep(20);
      await withKv(
        t,
        async (kv) => assertIs((await kv.get(["e"])).value, "w"),
        path,
      );
    },
  },
  {
    name: "expiry: sum clears an earlier expiry",
    run: async (t) => {
      const path = t.tempPath();
      // The expiry must outlive the sum (kvq hides an expired key, so a sum
      // after it would start from nothing) but not the sleep.
      await withKv(t, async (kv) => {
        await kv.set(["e"], new t.KvU64(1n), { expireIn: 300 });
        await kv.atomic().sum(["e"], 1n).commit();
      }, path);
      await sleep(400);
      await withKv(
        t,
        async (kv) => assertIs((await kv.get(["e"])).value?.valueOf(), 2n),
        path,
      );
    },
  },
  {
    name: "expiry: a value with a distant expiry survives reopen",
    run: async (t) => {
      const path = t.tempPath();
      await withKv(t, (kv) => kv.set(["e"], "v", { expireIn: 60_000 }), path);
      await withKv(
        t,
        async (kv) => assertIs((await kv.get(["e"])).value, "v"),
        path,
      );
    },
  },
];
