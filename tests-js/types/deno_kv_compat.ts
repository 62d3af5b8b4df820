/**
 * Type-level proof that code written for `Deno.Kv` type-checks against
 * kvq: kvq's objects are assigned to Deno's types and used through them.
 * Checked, never run: `deno check --unstable-kv tests-js/types/deno_kv_compat.ts`
 * (part of make lint).
 *
 * @module
 */

import { KvU64, openKv } from "../../npm/src/index.ts";

/** Code a Deno user already has, typed with Deno's own declarations. */
async function existingDenoCode(kv: Deno.Kv): Promise<void> {
  const res = await kv.set(["users", 1], { name: "Ada" });
  const entry: Deno.KvEntryMaybe<{ name: string }> = await kv.get<
    { name: string }
  >(["users", 1]);
  const [a, b] = await kv.getMany<[string, number]>([["a"], ["b"]]);
  const ok: Deno.KvCommitResult | Deno.KvCommitError = await kv.atomic()
    .check(entry)
    .set(["users", 1], { name: "Ada Lovelace" })
    .sum(["count"], 1n)
    .enqueue({ welcome: 1 }, { delay: 10, keysIfUndelivered: [["dead"]] })
    .commit();
  const iter: Deno.KvListIterator<unknown> = kv.list({ prefix: ["users"] }, {
    limit: 10,
    reverse: true,
  });
  for await (const e of iter) console.log(e.key, e.value, e.versionstamp);
  const stream: ReadableStream<Deno.KvEntryMaybe<unknown>[]> = kv.watch([[
    "users",
    1,
  ]]);
  await stream.cancel();
  await kv.enqueue("job");
  const listening: Promise<void> = kv.listenQueue((m: unknown) => {
    console.log(m);
  });
  const u: Deno.KvU64 = new Deno.KvU64(1n);
  console.log(res.versionstamp, a.value, b.value, ok.ok, u, listening);
  kv.close();
}

const kv = await openKv(":memory:");
// kvq's Kv is a Deno.Kv, and kvq's KvU64 is a Deno.KvU64.
const asDeno: Deno.Kv = kv;
const u64: Deno.KvU64 = new KvU64(5n);
await existingDenoCode(asDeno);
console.log(u64);
