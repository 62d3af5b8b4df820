/**
 * Deno's key codec (the FoundationDB tuple-layer subset of denokv's
 * proto/codec.rs): key parts to ordered bytes and back. It runs on every
 * operation, so it writes straight into the request buffer.
 *
 * @module
 */

import type { ByteBuf } from "./buffer.ts";
import { invalidData } from "./errors.ts";
import type { KvKey, KvKeyPart } from "./types.ts";

/** Deno's TypeError message for a part of an unsupported type. */
export const KEY_PART_ERROR =
  "expected string, number, bigint, ArrayBufferView, boolean";
/** Deno's message for a bigint part longer than 255 bytes. */
export const BIGINT_TOO_LARGE =
  "BigUint requires more than 255 bytes to be represented";

/**
 * The largest string or bytes part, in bytes, that is encoded as it is
 * (1 GiB). Every key limit is far smaller, and SQLite stores nothing that
 * large, so a larger part is written as a {@link STAND_IN} instead: still
 * over every limit, so the engine refuses the key with Deno's "Key too
 * large" error, without a request of gigabytes being built first (which
 * failed with a RangeError on Node and ran out of memory on Bun).
 */
export const MAX_KEY_PART_BYTES = 2 ** 30;
/** The bytes a part over {@link MAX_KEY_PART_BYTES} is written as. */
const STAND_IN = 4096;

const BYTES = 0x01;
const STRING = 0x02;
const NEG_LONG = 0x0b;
const INT_ZERO = 0x14;
const POS_LONG = 0x1d;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;

// Scratch space for the IEEE bits of a number, written big-endian.
const f64Bytes = new Uint8Array(8);
const f64View = new DataView(f64Bytes.buffer);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The TypeError serde_v8 raises in Deno when a value is not of the expected
 * type; `got` names the value the way serde_v8 does.
 */
export function serdeError(expected: string, value: unknown): TypeError {
  return new TypeError(
    `serde_v8 error: invalid type; expected: ${expected}, got: ${
      serdeName(value)
    }`,
  );
}

/** How serde_v8 names a value's type in its errors (observed on Deno). */
export function serdeName(value: unknown): string {
  switch (typeof value) {
    case "number":
      return "Number";
    case "boolean":
      return "Boolean";
    case "object":
      if (value === null) return "null";
      if (ArrayBuffer.isView(value)) {
        return (value as { [Symbol.toStringTag]?: string })[
          Symbol.toStringTag
        ] ?? "DataView";
      }
      if (value instanceof ArrayBuffer) return "ArrayBuffer";
      return "unknown";
    default:
      return typeof value;
  }
}

/**
 * Appends the encoding of `key`'s first `parts` parts to `out`. Throws
 * Deno's TypeError for a non-array key or a part of the wrong type.
 * Returns false when a bigint part needs more than 255 bytes: the caller
 * reports that later, after every type error, with its own prefix (Deno
 * checks types while deserialising arguments and encodes afterwards).
 */
export function writeKey(out: ByteBuf, key: unknown, parts?: number): boolean {
  if (!Array.isArray(key)) throw serdeError("array", key);
  const n = parts ?? key.length;
  let ok = true;
  for (let i = 0; i < n; i++) {
    const part = key[i];
    switch (typeof part) {
      case "string":
        writeString(out, part);
        break;
      case "number":
        writeNumber(out, part);
        break;
      case "bigint":
        if (!writeBigInt(out, part)) ok = false;
        break;
      case "boolean":
        out.u8(part ? TRUE : FALSE);
        break;
      case "object":
        if (part !== null && ArrayBuffer.isView(part)) {
          writeBytes(out, viewBytes(part));
          break;
        }
        throw new TypeError(KEY_PART_ERROR);
      default:
        throw new TypeError(KEY_PART_ERROR);
    }
  }
  return ok;
}

/** The bytes an ArrayBufferView covers (only its window). */
export function viewBytes(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array
    ? view
    : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Whether any string or bytes part of `key` is over MAX_KEY_PART_BYTES. */
export function hasHugePart(key: unknown): boolean {
  if (!Array.isArray(key)) return false;
  for (let i = 0; i < key.length; i++) {
    const part = key[i];
    if (typeof part === "string" ? isHugeString(part) : isHugeView(part)) {
      return true;
    }
  }
  return false;
}

function isHugeView(part: unknown): boolean {
  return typeof part === "object" && part !== null &&
    ArrayBuffer.isView(part) && part.byteLength > MAX_KEY_PART_BYTES;
}

// A string's UTF-8 length is at most three bytes per UTF-16 unit: only a
// string that long is measured, as writeString encodes it.
function isHugeString(s: string): boolean {
  const n = s.length;
  if (3 * n <= MAX_KEY_PART_BYTES) return false;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes > MAX_KEY_PART_BYTES;
}

/** Writes a part too large to encode: {@link STAND_IN} bytes of 0x01. */
function writeStandIn(out: ByteBuf, tag: number): void {
  out.ensure(STAND_IN + 2);
  out.buf[out.pos] = tag;
  out.buf.fill(1, out.pos + 1, out.pos + 1 + STAND_IN);
  out.buf[out.pos + 1 + STAND_IN] = 0;
  out.pos += STAND_IN + 2;
}

function writeBytes(out: ByteBuf, bytes: Uint8Array): void {
  const n = bytes.length;
  if (n > MAX_KEY_PART_BYTES) return writeStandIn(out, BYTES);
  out.ensure(2 * n + 2);
  const b = out.buf;
  let p = out.pos;
  b[p++] = BYTES;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    b[p++] = c;
    if (c === 0) b[p++] = 0xff;
  }
  b[p++] = 0;
  out.pos = p;
}

// UTF-8 by hand: faster than TextEncoder for the short strings keys hold,
// escapes zeros in the same pass, and turns lone surrogates into U+FFFD
// exactly as TextEncoder (and Deno) do.
function writeString(out: ByteBuf, s: string): void {
  const n = s.length;
  if (3 * n > MAX_KEY_PART_BYTES && isHugeString(s)) {
    return writeStandIn(out, STRING);
  }
  out.ensure(3 * n + 2);
  const b = out.buf;
  let p = out.pos;
  b[p++] = STRING;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b[p++] = c;
      if (c === 0) b[p++] = 0xff;
    } else if (c < 0x800) {
      b[p++] = 0xc0 | (c >> 6);
      b[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          i++;
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          b[p++] = 0xf0 | (cp >> 18);
          b[p++] = 0x80 | ((cp >> 12) & 0x3f);
          b[p++] = 0x80 | ((cp >> 6) & 0x3f);
          b[p++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      b[p++] = 0xe0 | (c >> 12);
      b[p++] = 0x80 | ((c >> 6) & 0x3f);
      b[p++] = 0x80 | (c & 0x3f);
    }
  }
  b[p++] = 0;
  out.pos = p;
}

function writeNumber(out: ByteBuf, x: number): void {
  f64View.setFloat64(0, x);
  if (x !== x) {
    // Canonical NaN, keeping only the sign (denokv canonicalises too).
    const negative = f64Bytes[0] & 0x80;
    f64View.setUint32(0, negative ? 0xfff80000 : 0x7ff80000);
    f64View.setUint32(4, 0);
  }
  out.ensure(9);
  const b = out.buf;
  let p = out.pos;
  b[p++] = DOUBLE;
  if (f64Bytes[0] & 0x80) {
    for (let i = 0; i < 8; i++) b[p++] = ~f64Bytes[i] & 0xff;
  } else {
    b[p++] = f64Bytes[0] ^ 0x80;
    for (let i = 1; i < 8; i++) b[p++] = f64Bytes[i];
  }
  out.pos = p;
}

function writeBigInt(out: ByteBuf, v: bigint): boolean {
  if (v === 0n) {
    out.u8(INT_ZERO);
    return true;
  }
  const negative = v < 0n;
  let hex = (negative ? -v : v).toString(16);
  if (hex.length & 1) hex = "0" + hex;
  const n = hex.length >> 1;
  if (n > 255) return false;
  out.ensure(n + 2);
  const b = out.buf;
  let p = out.pos;
  if (n <= 8) {
    b[p++] = negative ? INT_ZERO - n : INT_ZERO + n;
  } else {
    b[p++] = negative ? NEG_LONG : POS_LONG;
    b[p++] = negative ? n ^ 0xff : n;
  }
  for (let i = 0; i < n; i++) {
    const byte = parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    b[p++] = negative ? ~byte & 0xff : byte;
  }
  out.pos = p;
  return true;
}

/**
 * Decodes key bytes into parts. Throws InvalidData "invalid utf8" for a
 * string part that is not UTF-8 and "invalid tag" for an unknown tag.
 */
export function decodeKey(
  b: Uint8Array,
  start = 0,
  end: number = b.length,
): KvKeyPart[] {
  const parts: KvKeyPart[] = [];
  let p = start;
  while (p < end) {
    const tag = b[p++];
    if (tag === STRING || tag === BYTES) {
      // Find the terminating zero, noting whether any zero was escaped.
      let q = p;
      let escaped = false;
      while (q < end) {
        if (b[q] === 0) {
          if (b[q + 1] === 0xff && q + 1 < end) {
            escaped = true;
            q += 2;
            continue;
          }
          break;
        }
        q++;
      }
      const raw = escaped ? unescape(b, p, q) : b.subarray(p, q);
      parts.push(tag === STRING ? decodeUtf8(raw) : raw.slice());
      p = q + 1;
    } else if (tag >= NEG_LONG && tag <= POS_LONG) {
      let n: number;
      if (tag === NEG_LONG) n = b[p++] ^ 0xff;
      else if (tag === POS_LONG) n = b[p++];
      else n = Math.abs(tag - INT_ZERO);
      const negative = tag < INT_ZERO;
      let v = 0n;
      for (let i = 0; i < n; i++) {
        const byte = negative ? ~b[p + i] & 0xff : b[p + i];
        v = (v << 8n) | BigInt(byte);
      }
      p += n;
      parts.push(negative ? -v : v);
    } else if (tag === DOUBLE) {
      if (b[p] & 0x80) {
        f64Bytes[0] = b[p] ^ 0x80;
        for (let i = 1; i < 8; i++) f64Bytes[i] = b[p + i];
      } else {
        for (let i = 0; i < 8; i++) f64Bytes[i] = ~b[p + i] & 0xff;
      }
      p += 8;
      parts.push(f64View.getFloat64(0));
    } else if (tag === FALSE) {
      parts.push(false);
    } else if (tag === TRUE) {
      parts.push(true);
    } else {
      throw invalidData("invalid tag");
    }
  }
  return parts;
}

function unescape(b: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  let n = 0;
  for (let i = from; i < to; i++) {
    out[n++] = b[i];
    if (b[i] === 0) i++;
  }
  return out.subarray(0, n);
}

function decodeUtf8(raw: Uint8Array): string {
  const n = raw.length;
  // Short ASCII strings (the common key) are cheaper by hand than through
  // TextDecoder's call overhead.
  if (n < 32) {
    let s = "";
    for (let i = 0; i < n; i++) {
      const c = raw[i];
      if (c >= 0x80) return decodeSlow(raw);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeSlow(raw);
}

function decodeSlow(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw invalidData("invalid utf8");
  }
}

/** A fresh copy of a key array (Deno returns copies in a few places). */
export function copyKey(key: KvKey): KvKeyPart[] {
  return Array.prototype.slice.call(key) as KvKeyPart[];
}
