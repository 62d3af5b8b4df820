/**
 * The byte level of the V8 ValueSerializer: a reusable growable buffer, varints,
 * doubles, and the primitives (numbers, bigints, strings) exactly as V8 encodes them.
 *
 * @module
 */

import { ByteBuf } from "../buffer.ts";
import * as T from "./tags.ts";

const encoder = new TextEncoder();
const U64 = 0xffffffffffffffffn;
// Below this length a charCodeAt loop beats TextEncoder.encodeInto's call overhead.
const ENCODE_INTO_MIN = 64;

/** Whether `n` is a number V8 holds as a Smi (int32, not -0), written as 'I'. */
export function isInt32(n: number): boolean {
  return (n | 0) === n && (n !== 0 || 1 / n > 0);
}

/**
 * Output buffer (the shared {@link ByteBuf}) plus primitive encoders;
 * {@link Writer} adds objects on top.
 */
export class ByteWriter extends ByteBuf {
  /** Objects written so far and their back-reference ids. */
  ids: Map<object, number> = new Map();

  /** Forgets the previous value, keeping the buffer unless it grew very large. */
  override reset(): void {
    super.reset();
    this.ids.clear();
  }

  /** Writes one byte (a tag). */
  byte(b: number): void {
    if (this.pos >= this.buf.length) this.grow(1);
    this.buf[this.pos++] = b;
  }

  /** Writes an unsigned 32-bit varint (base 128, low group first). */
  varint(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
    this.pos = p;
  }

  /** Writes a float64, little-endian. */
  double(d: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, d, true);
    this.pos += 8;
  }

  /** Writes the header of the version kvq writes. */
  header(): void {
    this.byte(T.VERSION);
    this.varint(T.WRITE_VERSION);
  }

  /** Writes a number as 'I' when V8 would hold it as a Smi, else as 'N'. */
  number(n: number): void {
    if (isInt32(n)) {
      this.byte(T.INT32);
      this.varint(((n << 1) ^ (n >> 31)) >>> 0);
    } else {
      this.byte(T.DOUBLE);
      this.double(n);
    }
  }

  /** Writes a bigint's bitfield and 64-bit digits (the part after 'Z' or 'z'). */
  bigint(b: bigint): void {
    const negative = b < 0n;
    let m = negative ? -b : b;
    const bytes = m === 0n
      ? 0
      : m <= U64
      ? 8
      : Math.ceil(m.toString(16).length / 16) * 8;
    this.varint(bytes * 2 + (negative ? 1 : 0));
    this.ensure(bytes);
    for (let i = 0; i < bytes; i += 8) {
      this.dv.setBigUint64(this.pos, m & U64, true);
      this.pos += 8;
      m >>= 64n;
    }
  }

  /** Writes a string: one-byte when every unit is Latin-1, else two-byte. */
  string(s: string): void {
    const n = s.length;
    const start = this.pos;
    this.ensure(6 + n);
    this.buf[this.pos++] = T.ONE_BYTE_STRING;
    this.varint(n);
    const buf = this.buf;
    let p = this.pos;
    if (n >= ENCODE_INTO_MIN) {
      // All-ASCII strings (the common case) are copied natively; anything else
      // falls through to the loop, which overwrites what encodeInto wrote.
      const r = encoder.encodeInto(s, buf.subarray(p, p + n));
      if (r.read === n && r.written === n) {
        this.pos = p + n;
        return;
      }
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) {
        this.pos = start;
        return this.twoByte(s);
      }
      buf[p++] = c;
    }
    this.pos = p;
  }

  /** Writes a two-byte string, padded so its code units start at an even offset. */
  twoByte(s: string): void {
    const n = s.length;
    const bytes = n * 2;
    this.ensure(7 + bytes);
    let size = 1;
    for (let v = bytes; v >= 0x80; v >>>= 7) size++;
    if ((this.pos + 1 + size) & 1) this.buf[this.pos++] = T.PADDING;
    this.buf[this.pos++] = T.TWO_BYTE_STRING;
    this.varint(bytes);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      buf[p++] = c & 0xff;
      buf[p++] = c >> 8;
    }
    this.pos = p;
  }
}
