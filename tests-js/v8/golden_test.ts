/**
 * Golden bytes: the reference values Deno 2.9.6 wrote (spec section 2.2, header
 * version 16) and hand-checked cases of our own, in both directions; then the
 * inputs deserialize must refuse. Runs on Node 24, Bun and Deno.
 *
 * @module
 */

import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import {
  assert,
  assertEqual,
  assertThrows,
  fromHex,
  hex,
  run,
  test,
} from "./harness.ts";
import { INVALID, QUIRKS } from "./wire_cases.ts";

const circular: Record<string, unknown> = {};
circular.self = circular;

// [label, value, bytes after the FF10 header exactly as Deno 2.9.6 wrote them,
//  and what reading them gives when that is not the value itself]
const DENO: [string, unknown, string, unknown?][] = [
  ["true", true, "54"],
  ["false", false, "46"],
  ["null", null, "30"],
  ["undefined", undefined, "5f"],
  ["-1", -1, "4901"],
  ["42", 42, "4954"],
  ["2**31", 2 ** 31, "4e000000000000e041"],
  ["1.5", 1.5, "4e000000000000f83f"],
  ["-0", -0, "4e0000000000000080"],
  ["NaN", NaN, "4e000000000000f87f"],
  ['"é"', "é", "2201e9"],
  ['"😀"', "😀", "63043dd800de"],
  ["42n", 42n, "5a102a00000000000000"],
  ["-5n", -5n, "5a110500000000000000"],
  ["[1,2]", [1, 2], "41024902490424 0002"],
  ["[1,,3]", [1, , 3], "6103490049024904490640 0203"],
  ["{a:1}", { a: 1 }, "6f22016149027b01"],
  ["{}", {}, "6f7b00"],
  ["Object.create(null)", Object.create(null), "6f7b00", {}],
  ['Map [["k",1]]', new Map([["k", 1]]), "3b22016b49023a02"],
  ["Set [1]", new Set([1]), "2749022c01"],
  ["Date(1)", new Date(1), "44000000000000f03f"],
  ["/x/gi", /x/gi, "5222017803"],
  ['String("s")', new String("s"), "73220173"],
  ["ArrayBuffer(2)", new ArrayBuffer(2), "42020000"],
  ["Uint8Array [1,2]", new Uint8Array([1, 2]), "420201025642000200"],
  ["Int8Array [-1,2]", new Int8Array([-1, 2]), "4202ff025662000200"],
  ["Int32Array [1]", new Int32Array([1]), "4204010000005664000400"],
  ["circular {self}", circular, "6f220473656c665e007b01"],
  [
    "Object.freeze([1.5,2]) (written sparsely)",
    Object.freeze([1.5, 2]),
    "610249004e000000000000f83f49024904400202",
    [1.5, 2],
  ],
  ["Object.seal([])", Object.seal([]), "6100400000", []],
];

// Our own cases, bytes after the header (checked against Node 24's V8, see
// node_v8_test.ts, and against Deno 2.9.6, see deno_kv_test.ts).
const OWN: [string, unknown, string][] = [
  ["2**30 stays int32", 2 ** 30, "498080808008"],
  ["-(2**31)", -(2 ** 31), "49ffffffff0f"],
  ["0n", 0n, "5a00"],
  ["-(2n**64n)", -(2n ** 64n), "5a2100000000000000000100000000000000"],
  ["two-byte, no padding", { a: "\u0100" }, "6f220161630200017b01"],
  ["two-byte, padded", { ab: "\u0100" }, "6f2202616200630200017b01"],
  [
    "index keys as numbers",
    { b: 2, 1: "a", 3000000000: 1 },
    "6f4902220161 4e000000c00b5ae641 4902 220162 4904 7b03",
  ],
  [
    "non-index keys as strings",
    { "-0": 1, "01": 2 },
    "6f22022d30490222023031 49047b02",
  ],
  ["double array", [1.5, 2], "41024e000000000000f83f4e000000000000004024 0002"],
  [
    "array property",
    Object.assign([1, 2], { x: 1 }),
    "4102490249042201784902240102",
  ],
  ["RegExp flags", /a\/b/dgimsuy, "522204615c2f62bf01"],
  ["Number object", new Number(3), "6e0000000000000840"],
  ["false object", new Boolean(false), "78"],
  ["BigInt object", Object(5n), "7a100500000000000000"],
  [
    "DataView window",
    new DataView(new ArrayBuffer(4), 1, 2),
    "420400000000563f010200",
  ],
  [
    "shared buffer",
    (() => {
      const b = new ArrayBuffer(4);
      return [new Uint8Array(b), new Uint16Array(b)];
    })(),
    "410242040000000056420004005e015657000400240002",
  ],
];

for (const [label, value, body, ...read] of DENO) {
  const bytes = fromHex(body);
  test(`serialize ${label} matches Deno's bytes`, () => {
    const out = serialize(value);
    assert(
      hex(out.subarray(0, 2)) === "ff0f",
      `header ${hex(out.subarray(0, 2))}`,
    );
    assert(
      hex(out.subarray(2)) === hex(bytes),
      `got ${hex(out.subarray(2))}, Deno ${hex(bytes)}`,
    );
  });
  // Version 13 views have no flags byte, so those bytes are not valid v13.
  const versions = ArrayBuffer.isView(value) ? [16, 15] : [16, 15, 13];
  test(`deserialize Deno's ${label} (v${versions.join(", v")})`, () => {
    for (const version of versions) {
      assertEqual(
        deserialize(Uint8Array.of(0xff, version, ...bytes)),
        read.length ? read[0] : value,
        `v${version}`,
      );
    }
  });
}

for (const [label, value, body] of OWN) {
  test(`serialize ${label}`, () => {
    const got = hex(serialize(value));
    assert(got === "ff0f" + hex(fromHex(body)), `got ${got}`);
  });
  test(`deserialize ${label}`, () =>
    assertEqual(deserialize(fromHex("ff0f" + body)), value));
}

test("serialize Error writes prototype, message, stack, cause, end", () => {
  const e = new RangeError("m", { cause: 5 });
  const stack = hex(serialize(e.stack)).slice(4);
  const got = hex(serialize(e));
  assert(got === `ff0f72526d22016d73${stack}63490a2e`, got);
});

for (const [label, body, expected] of QUIRKS) {
  test(`deserialize ${label}`, () => {
    assertEqual(deserialize(fromHex(body)), expected);
  });
}

test("deserialize a two-byte string at an odd input offset", () => {
  const body = fromHex("ff0f 63 40" + "4100".repeat(32));
  const odd = new Uint8Array(body.length + 1);
  odd.set(body, 1);
  assertEqual(deserialize(odd.subarray(1)), "A".repeat(32));
});

for (const [label, body] of INVALID) {
  test(`deserialize refuses ${label}`, async () => {
    await assertThrows(
      () => deserialize(fromHex(body)),
      RangeError,
      "could not deserialize value",
    );
  });
}

test("deserialize refuses every truncation of a rich value", async () => {
  const bytes = serialize({
    a: [1, "two", 3.5],
    m: new Map([[1n, new Uint16Array([1, 2])]]),
    e: new Error("x"),
  });
  for (let n = 0; n < bytes.length; n++) {
    await assertThrows(
      () => deserialize(bytes.subarray(0, n)),
      RangeError,
      "could not deserialize value",
    );
  }
});

await run();
