/**
 * Host objects (Blob, File, DOMException, CryptoKey) through kvq's codec:
 * it writes Deno 2.9.6's bytes (host_cases.ts), reads Deno's bytes back as
 * the same values, round-trips them, keeps sharing, and refuses what the
 * runtime cannot rebuild. Runs on Node 24, Bun and Deno; under Deno also
 * with Deno's core out of reach (host_portable_test.ts), the code path of
 * Node and Bun.
 *
 * @module
 */

import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import {
  assert,
  assertError,
  assertThrows,
  fromHex,
  hex,
  run,
  runtime,
  test,
} from "./harness.ts";
import { DENO_BYTES, HOST_CASES, nilUuids, PAIR_PUBLIC } from "./host_cases.ts";

const portable = runtime !== "deno" ||
  (globalThis as { KVQ_PORTABLE_HOSTS?: boolean }).KVQ_PORTABLE_HOSTS === true;
const mode = runtime + (runtime === "deno" && portable ? " (portable)" : "");

/** Why our bytes differ from Deno's for a case on this runtime, if they do. */
function differs(name: string): string | undefined {
  if (runtime === "bun" && (name === "blob" || name === "file")) {
    return "Bun adds ';charset=utf-8' to the type of a Blob made of strings";
  }
  return undefined;
}

const body = (bytes: Uint8Array) => nilUuids(hex(bytes.subarray(2)));

test(`host objects on ${mode}`, () => {});

for (const c of HOST_CASES) {
  const deno = DENO_BYTES[c.name].replace(/\s/g, "");
  test(`serialize writes Deno's bytes: ${c.name}`, async () => {
    const why = differs(c.name);
    if (why !== undefined) return;
    const ours = body(serialize(await c.make()));
    assert(ours === deno, `\n      ours ${ours}\n      deno ${deno}`);
  });
  test(`round trip: ${c.name}`, async () => {
    await c.check(deserialize(serialize(await c.make())));
  });
  if (c.kind === "Blob") {
    test(`Deno's ${c.name} from another process: size and type, no bytes`, async () => {
      const got = deserialize(fromHex("ff10" + deno)) as Blob;
      assert(got instanceof Blob, `got ${Object.prototype.toString.call(got)}`);
      const made = await c.make() as Blob;
      assert(got.size === made.size, `size ${got.size}`);
      if (made.size === 0) return;
      await assertThrows(() => got.text(), TypeError, "Blob part not found");
      await assertThrows(
        () => got.arrayBuffer(),
        TypeError,
        "Blob part not found",
      );
      await assertThrows(() => got.slice(1), TypeError, "Blob part not found");
      await assertThrows(
        () => got.stream().getReader().read(),
        TypeError,
        "Blob part not found",
      );
    });
  } else {
    test(`deserialize reads Deno's bytes: ${c.name}`, async () => {
      await c.check(deserialize(fromHex("ff10" + deno)));
    });
  }
}

test("deserialize reads Deno's public key of a generated pair (private data)", async () => {
  await PAIR_PUBLIC.check(deserialize(fromHex("ff10" + PAIR_PUBLIC.bytes)));
});

test("a host object shared twice is written once, then referenced", async () => {
  const d = await HOST_CASES.find((c) => c.name === "domex")!.make();
  const out = hex(serialize([d, d]).subarray(2));
  const deno = "4102" + DENO_BYTES.domex.replace(/\s/g, "") + "5e01240002";
  assert(out === deno, `got ${out}`);
  const back = deserialize(serialize([d, { d }, d])) as unknown[];
  assert(back[0] === back[2], "sharing lost");
  assert((back[1] as { d: unknown }).d === back[0], "nested sharing lost");
});

test("a Blob written twice keeps one part id", async () => {
  const b = new Blob(["x"]);
  const one = hex(serialize(b));
  assert(one === hex(serialize(b)) || !portable, "a new uuid each time");
  const got = deserialize(serialize([b, b])) as Blob[];
  assert(got[0] === got[1], "sharing lost");
  assert(await got[0].text() === "x", "bytes lost");
});

test("a DOMException without a stack (as Bun writes it) reads back", () => {
  const bytes = fromHex(
    "ff0f5cffffffff0f6f" + "220474797065220c444f4d457863657074696f6e" +
      "22076d65737361676522026869" + "22046e616d65220a41626f72744572726f72" +
      "2205737461636b5f7b04",
  );
  const got = deserialize(bytes) as DOMException;
  assert(got instanceof DOMException, "not a DOMException");
  assert(got.name === "AbortError" && got.message === "hi", got.name);
  assert(got.code === 20, `code ${got.code}`);
});

test("a description of an unknown type is refused (Deno 2.9.6 panics)", async () => {
  // { type: "Foo" }
  const bytes = fromHex("ff0f5cffffffff0f6f2204747970652203466f6f7b01");
  await assertThrows(
    () => deserialize(bytes),
    RangeError,
    "could not deserialize value",
  );
});

test("a host object that is no description (Node's own format) is refused", async () => {
  await assertThrows(
    () => deserialize(fromHex("ff0f5c01020102")),
    RangeError,
    "could not deserialize value",
  );
});

test("a CryptoKey of an algorithm Deno stores differently is refused", async () => {
  let k: CryptoKey | undefined;
  for (const name of ["ChaCha20-Poly1305", "ML-DSA-44", "AES-OCB"]) {
    try {
      const made = await crypto.subtle.generateKey(
        { name, length: 256 } as AlgorithmIdentifier,
        true,
        name === "ML-DSA-44" ? ["sign"] : ["encrypt"],
      );
      k = (made as CryptoKeyPair).privateKey ?? made as CryptoKey;
      break;
    } catch {
      // Not on this runtime.
    }
  }
  if (k === undefined) return;
  let error: unknown;
  try {
    serialize(k);
  } catch (e) {
    error = e;
  }
  if (!portable) {
    // Deno stores it in its own format.
    assert(error === undefined, `threw ${error}`);
    return;
  }
  assertError(error, TypeError, "#<CryptoKey> could not be cloned.");
});

await run();
