/**
 * Host objects against the oracle, real Deno 2.9.6 KV:
 * (a) `kv.set` stores each value of host_cases.ts with exactly the bytes
 *     recorded there (Blob uuids made nil), which host_test.ts requires of
 *     kvq's codec on every runtime;
 * (b) Deno's `kv.get` reads those bytes, and the bytes Bun writes for a
 *     DOMException (no stack), as the same values;
 * (c) in one process, a Blob passes between Deno.openKv and kvq's codec
 *     with its bytes, both ways (they share Deno's blob store).
 *
 * Run: node_modules/.bin/deno run -A --unstable-kv tests-js/v8/deno_host_test.ts
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import { assert, fromHex, hex, run, runtime, test } from "./harness.ts";
import { DENO_BYTES, HOST_CASES, nilUuids } from "./host_cases.ts";

interface DenoKv {
  set(key: string[], value: unknown): Promise<unknown>;
  get(key: string[]): Promise<{ value: unknown }>;
  close(): void;
}
interface DenoNs {
  makeTempDirSync(): string;
  removeSync(path: string, options: { recursive: boolean }): void;
  openKv(path: string): Promise<DenoKv>;
}

/** Deno KV's key encoding for a tuple of strings (spec section 1.2). */
function key(...parts: string[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    out.push(0x02, ...new TextEncoder().encode(part), 0x00);
  }
  return Uint8Array.from(out);
}

const BUN_DOMEXCEPTION =
  "5cffffffff0f6f220474797065220c444f4d457863657074696f6e" +
  "22076d6573736167652202686922046e616d65220a41626f72744572726f72" +
  "2205737461636b5f7b04";

if (runtime === "deno") {
  const Deno = (globalThis as unknown as { Deno: DenoNs }).Deno;
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/hosts.sqlite3`;
  const values = await Promise.all(HOST_CASES.map((c) => c.make()));
  const blob = new Blob(["shared store"], { type: "text/plain" });

  let kv = await Deno.openKv(path);
  for (let i = 0; i < HOST_CASES.length; i++) {
    await kv.set(["a", HOST_CASES[i].name], values[i]);
  }
  await kv.set(["deno blob"], blob);
  kv.close();

  const db = new DatabaseSync(path);
  const read = db.prepare("select v from kv where k = ?");
  const insert = db.prepare(
    "insert into kv (k, v, v_encoding, version) values (?, ?, 1, 1)",
  );
  const rows = HOST_CASES.map((c) =>
    (read.get(key("a", c.name)) as { v: Uint8Array }).v
  );
  const denoBlob = (read.get(key("deno blob")) as { v: Uint8Array }).v;
  for (const c of HOST_CASES) {
    insert.run(key("b", c.name), fromHex("ff0f" + DENO_BYTES[c.name]));
  }
  insert.run(key("bun domexception"), fromHex("ff0f" + BUN_DOMEXCEPTION));
  insert.run(key("kvq blob"), serialize(blob));
  db.close();

  kv = await Deno.openKv(path);
  const got: { value: unknown }[] = [];
  for (const c of HOST_CASES) got.push(await kv.get(["b", c.name]));
  const bun = await kv.get(["bun domexception"]);
  const kvqBlob = await kv.get(["kvq blob"]);
  kv.close();
  Deno.removeSync(dir, { recursive: true });

  HOST_CASES.forEach((c, i) => {
    test(`Deno's kv.set writes the recorded bytes: ${c.name}`, () => {
      const deno = nilUuids(hex(rows[i].subarray(2)));
      assert(hex(rows[i].subarray(0, 2)) === "ff10", "header");
      assert(deno === DENO_BYTES[c.name], `Deno now writes ${deno}`);
    });
    test(`kvq writes what Deno writes: ${c.name}`, () => {
      const ours = nilUuids(hex(serialize(values[i]).subarray(2)));
      assert(ours === DENO_BYTES[c.name], `ours ${ours}`);
    });
    if (c.kind !== "Blob") {
      test(`Deno's kv.get reads the recorded bytes: ${c.name}`, () =>
        c.check(got[i].value));
    } else {
      test(`Deno's kv.get reads a Blob of another process: ${c.name}`, async () => {
        const b = got[i].value as Blob;
        const made = values[i] as Blob;
        assert(b instanceof Blob && b.size === made.size, "size lost");
        if (made.size === 0) return;
        const e = await b.text().then(() => undefined, (e) => e);
        assert(String(e) === "TypeError: Blob part not found", String(e));
      });
    }
  });

  test("Deno's kv.get reads Bun's DOMException (no stack)", () => {
    const d = bun.value as DOMException;
    assert(d instanceof DOMException, String(d));
    assert(d.name === "AbortError" && d.message === "hi", d.name);
  });

  test("same process: kvq reads the Blob Deno.openKv wrote, bytes included", async () => {
    const b = deserialize(denoBlob) as Blob;
    assert(b instanceof Blob && b.type === "text/plain", String(b));
    assert(await b.text() === "shared store", "bytes lost");
  });

  test("same process: Deno.openKv reads the Blob kvq wrote, bytes included", async () => {
    const b = kvqBlob.value as Blob;
    assert(b instanceof Blob && b.type === "text/plain", String(b));
    assert(await b.text() === "shared store", "bytes lost");
  });
} else {
  console.log(`skipped: the oracle needs Deno, this is ${runtime}`);
}

await run();
