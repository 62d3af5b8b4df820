/**
 * The oracle: real Deno 2.9.6 KV. For every value of the matrix,
 * (a) `kv.set` stores it, the raw `v` bytes are read with node:sqlite, and
 *     `deserialize` must return the value (and our bytes must equal Deno's after
 *     the header);
 * (b) `serialize`'s bytes are inserted into the kv table (v_encoding 1) and real
 *     `kv.get` must return the value.
 * Also: Deno refuses the same values with the same errors, reads our odd-but-valid
 * inputs and rejects our invalid ones with the same RangeError.
 *
 * Run: node_modules/.bin/deno run -A --unstable-kv tests-js/v8/deno_kv_test.ts
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import {
  assert,
  assertEqual,
  assertError,
  fromHex,
  hex,
  run,
  runtime,
  test,
} from "./harness.ts";
import { SAMPLES } from "./values.ts";
import { UNCLONABLE } from "./unclonable.ts";
import { INVALID, QUIRKS } from "./wire_cases.ts";

/** Deno KV's key encoding for a tuple of strings (spec section 1.2). */
function key(...parts: string[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    out.push(0x02);
    for (const b of new TextEncoder().encode(part)) {
      out.push(b);
      if (b === 0) out.push(0xff);
    }
    out.push(0x00);
  }
  return Uint8Array.from(out);
}

interface DenoKv {
  set(key: string[], value: unknown): Promise<unknown>;
  get(key: string[]): Promise<{ value: unknown }>;
  close(): void;
}
interface DenoNs {
  makeTempDirSync(): string;
  removeSync(path: string, options: { recursive: boolean }): void;
  openKv(path: string): Promise<DenoKv>;
  version: { deno: string };
}

if (runtime === "deno") {
  const Deno = (globalThis as unknown as { Deno: DenoNs }).Deno;
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/oracle.sqlite3`;
  const values = SAMPLES.map((s) => s.make());
  const refusals: unknown[] = [];

  // (a) Deno writes every value (a top-level Uint8Array would be stored as raw
  // bytes, v_encoding 3, so it is only checked through (b)).
  let kv = await Deno.openKv(path);
  for (let i = 0; i < SAMPLES.length; i++) {
    if (values[i] instanceof Uint8Array) continue;
    await kv.set(["a", SAMPLES[i].name], values[i]);
  }
  for (const u of UNCLONABLE) {
    // Inside an array, so that a Uint8Array never takes the raw-bytes path.
    refusals.push(
      await kv.set(["e", u.name], [u.make()]).then(() => undefined, (e) => e),
    );
  }
  kv.close();

  // (b) kvq's bytes go into the same file, as Deno's own rows would.
  const db = new DatabaseSync(path);
  const read = db.prepare("select v, v_encoding from kv where k = ?");
  const insert = db.prepare(
    "insert into kv (k, v, v_encoding, version) values (?, ?, 1, 1)",
  );
  const stored = SAMPLES.map((s, i) =>
    values[i] instanceof Uint8Array ? undefined : read.get(key("a", s.name)) as
      | { v: Uint8Array; v_encoding: number }
      | undefined
  );
  SAMPLES.forEach((s, i) => insert.run(key("b", s.name), serialize(values[i])));
  for (const [label, body] of [...QUIRKS, ...INVALID]) {
    insert.run(key("w", label), fromHex(body));
  }
  db.close();

  kv = await Deno.openKv(path);
  const got: unknown[] = [];
  for (const s of SAMPLES) {
    got.push(await kv.get(["b", s.name]).then((r) => r.value));
  }
  const wire: unknown[] = [];
  for (const [label] of [...QUIRKS, ...INVALID]) {
    wire.push(await kv.get(["w", label]).then((r) => r.value, (e) => e));
  }
  kv.close();
  Deno.removeSync(dir, { recursive: true });

  test(`oracle is Deno ${Deno.version.deno}`, () => {});

  SAMPLES.forEach((s, i) => {
    const expected = s.expect ? s.expect(values[i]) : values[i];
    const row = stored[i];
    if (row !== undefined) {
      test(`deserialize reads Deno's kv.set bytes: ${s.name}`, () => {
        assert(row.v_encoding === 1, `v_encoding ${row.v_encoding}`);
        assert(
          hex(row.v.subarray(0, 2)) === "ff10",
          `Deno header ${hex(row.v.subarray(0, 2))}`,
        );
        assertEqual(deserialize(row.v), expected);
      });
      const note = s.denoBytesDiffer
        ? ` (differs by design: ${s.denoBytesDiffer})`
        : "";
      test(`serialize writes Deno's bytes: ${s.name}${note}`, () => {
        if (s.denoBytesDiffer) return;
        const ours = hex(serialize(values[i]).subarray(2));
        const deno = hex(row.v.subarray(2));
        assert(
          ours === deno,
          `ours ${ours.slice(0, 160)}\n      deno ${deno.slice(0, 160)}`,
        );
      });
    }
    test(`Deno's kv.get reads serialize's bytes: ${s.name}`, () => {
      assertEqual(got[i], expected);
    });
  });

  UNCLONABLE.forEach((u, i) => {
    test(`Deno refuses ${u.name} as documented, and so do we`, () => {
      assertError(refusals[i], u.cls, u.message);
      let ours: unknown;
      try {
        serialize([u.make()]);
      } catch (e) {
        ours = e;
      }
      assertError(ours, u.cls, u.message);
    });
  });

  QUIRKS.forEach(([label, , expected], i) => {
    test(`Deno reads ${label}`, () => assertEqual(wire[i], expected));
  });
  INVALID.forEach(([label, , denoMessage], i) => {
    test(`Deno refuses ${label}`, () => {
      const e = wire[QUIRKS.length + i];
      if (denoMessage === undefined) {
        assertError(e, RangeError, "could not deserialize value");
      } else {
        assertError(e, Error, denoMessage);
      }
    });
  });
} else {
  console.log(`skipped: the oracle needs Deno, this is ${runtime}`);
}

await run();
