/**
 * kvq (the JSR package, FFI) and real Deno's own KV Connect client on one
 * denokv server, in one Deno process: what each writes, the other reads
 * back (values of every kind, keys of every part type, versionstamps);
 * then the server restarted under a stream of kvq writes: every write
 * either resolves and is there afterwards, or rejects with a clear error.
 *
 *     scripts/denokv.sh node_modules/.bin/deno run -A --unstable-kv tests-js/denokv/interop_test.ts
 *
 * @module
 */

import { openKv } from "../../jsr/mod.ts";
import { assertEquals } from "../harness/assert.ts";
import { emptyServer, serverUrl } from "./helpers.ts";
import type { KvLike } from "../harness/types.ts";

const url = serverUrl();
const ctl = Deno.env.get("KVQ_DENOKV_CTL") ?? "";
const native = (p: string) =>
  Deno.openKv(p) as Promise<unknown> as Promise<KvLike>;

function samples(KvU64: new (n: bigint) => unknown): [unknown[], unknown][] {
  return [
    [["s", "string"], "hello ✓"],
    [["n", 1], 42.5],
    [["b", 2n], 12345678901234567890n],
    [["u8", new Uint8Array([1, 2])], new Uint8Array([0, 255, 7])],
    [["bool", true], { nested: [1, "two", null, undefined], at: new Date(0) }],
    [["map"], new Map<unknown, unknown>([["k", 1], [2, new Set([3])]])],
    [["u64"], new KvU64(99n)],
    [["re"], /a+b/gi],
  ];
}

async function roundTrip(
  writer: KvLike,
  reader: KvLike,
  KvU64: new (n: bigint) => unknown,
  what: string,
): Promise<void> {
  for (const [key, value] of samples(KvU64)) {
    const written = await writer.set(key, value);
    const got = await reader.get(key);
    assertEquals(got.versionstamp, written.versionstamp, `${what} ${key}`);
    const shown = (v: unknown) =>
      typeof v === "object" && v !== null && "value" in (v as object)
        ? String((v as { value: unknown }).value)
        : v;
    assertEquals(shown(got.value), shown(value), `${what} ${String(key)}`);
    assertEquals(got.key, key, `${what} key ${String(key)}`);
  }
  const listed = [];
  for await (const e of reader.list({ prefix: [] })) listed.push(e.key);
  assertEquals(listed.length, samples(KvU64).length, `${what} list`);
}

let failed = 0;
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  const start = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.stack : e}`);
  }
}

await check("Deno writes, kvq reads: values, keys, versionstamps", async () => {
  await emptyServer(native, url);
  const deno = await native(url);
  const kvq = await openKv(url) as unknown as KvLike;
  try {
    await roundTrip(deno, kvq, Deno.KvU64, "deno->kvq");
  } finally {
    deno.close();
    kvq.close();
  }
});

await check("kvq writes, Deno reads: values, keys, versionstamps", async () => {
  await emptyServer(native, url);
  const deno = await native(url);
  const kvq = await openKv(url) as unknown as KvLike;
  try {
    const { KvU64 } = await import("../../jsr/mod.ts");
    await roundTrip(kvq, deno, KvU64, "kvq->deno");
  } finally {
    deno.close();
    kvq.close();
  }
});

await check(
  "a server restart under 300 writes: each resolves and stays, or rejects clearly",
  async () => {
    if (ctl === "") throw new Error("KVQ_DENOKV_CTL is not set");
    await emptyServer(native, url);
    const kvq = await openKv(url);
    const resolved: number[] = [];
    const rejected: string[] = [];
    const writes: Promise<void>[] = [];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < 300; i++) {
      writes.push(
        kvq.set(["r", i], i).then(
          () => void resolved.push(i),
          (e) => void rejected.push(String(e)),
        ),
      );
      if (i === 100) {
        restarted = new Deno.Command(ctl, { args: ["restart"] }).output()
          .then(() => {});
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(writes);
    await restarted;
    for (const i of resolved) {
      const got = await kvq.get(["r", i]);
      assertEquals(got.value, i, `write ${i} after the restart`);
    }
    for (const why of rejected) {
      if (!why.includes("KV Connect failed to call")) {
        throw new Error(`an unclear rejection: ${why}`);
      }
      if (why.includes(Deno.env.get("DENO_KV_ACCESS_TOKEN") ?? "\0")) {
        throw new Error("the token is in an error");
      }
    }
    console.log(
      `     ${resolved.length} resolved, ${rejected.length} rejected clearly`,
    );
    kvq.close();
  },
);

if (failed > 0) {
  console.log(`${failed} failed`);
  Deno.exit(1);
}
console.log("all passed");
