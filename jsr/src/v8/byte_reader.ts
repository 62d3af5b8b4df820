/**
 * The byte level of the V8 ValueDeserializer: tags, varints, doubles, bigints and
 * strings, each checked against the end of the input.
 *
 * @module
 */

import * as T from "./tags.ts";

const utf8 = new TextDecoder();
// String.fromCharCode.apply takes its arguments on the stack: decode in slices.
const CHUNK = 4096;
// Below this length, building a string unit by unit is cheaper than a decoder call.
const SHORT = 32;

/** Thrown for malformed input; deserialize turns every failure into Deno's RangeError. */
export class InvalidData extends Error {}

/** Throws {@link InvalidData}. */
export function fail(): never {
  throw new InvalidData();
}

/** Input cursor plus primitive decoders; {@link Reader} adds objects on top. */
export class ByteReader {
  /** The input. */
  b: Uint8Array;
  /** A DataView over the input, for float64 and bigint digits. */
  dv: DataView;
  /** Next read offset. */
  pos = 0;
  /** Format version from the header. */
  version = 0;

  /** Reads from `bytes`, without copying them. */
  constructor(bytes: Uint8Array) {
    this.b = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads the mandatory header 0xFF <version>; accepts versions 13 to 16. */
  header(): void {
    if (this.b.length === 0 || this.b[0] !== T.VERSION) fail();
    this.pos = 1;
    const v = this.varint();
    if (v < T.MIN_READ_VERSION || v > T.MAX_READ_VERSION) fail();
    this.version = v;
  }

  /** Reads the next tag, skipping padding. */
  tag(): number {
    const b = this.b;
    let t: number;
    do {
      if (this.pos >= b.length) fail();
      t = b[this.pos++];
    } while (t === T.PADDING);
    return t;
  }

  /** Skips padding and returns the next tag without consuming it, or -1 at the end. */
  peek(): number {
    const b = this.b;
    while (this.pos < b.length && b[this.pos] === T.PADDING) this.pos++;
    return this.pos < b.length ? b[this.pos] : -1;
  }

  /** Reads a uint32 varint; excess high bits are dropped, as V8 drops them. */
  varint(): number {
    const b = this.b;
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      if (this.pos >= b.length) fail();
      byte = b[this.pos++];
      if (shift < 32) {
        result |= (byte & 0x7f) << shift;
        shift += 7;
      }
    } while (byte & 0x80);
    return result >>> 0;
  }

  /** Reads a zigzag-encoded int32. */
  int32(): number {
    const v = this.varint();
    return (v >>> 1) ^ -(v & 1);
  }

  /** Reads a little-endian float64. */
  double(): number {
    if (this.pos + 8 > this.b.length) fail();
    const d = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return d;
  }

  /** Returns the offset of `n` more bytes and skips them; fails past the end. */
  take(n: number): number {
    const p = this.pos;
    if (n > this.b.length - p) fail();
    this.pos = p + n;
    return p;
  }

  /** Reads a bigint bitfield and its digits (the part after 'Z' or 'z'). */
  bigint(): bigint {
    const bitfield = this.varint();
    const n = (bitfield >>> 1) & 0x3fffffff;
    const p = this.take(n);
    let m = 0n;
    let i = n;
    // Whole 64-bit digits from the most significant end, then any odd bytes.
    for (; i >= 8 && i % 8 === 0; i -= 8) {
      m = (m << 64n) | this.dv.getBigUint64(p + i - 8, true);
    }
    for (; i > 0; i--) m = (m << 8n) | BigInt(this.b[p + i - 1]);
    return bitfield & 1 ? -m : m;
  }

  /** Reads a one-byte (Latin-1) string of `n` bytes. */
  oneByte(n: number): string {
    const p = this.take(n);
    const b = this.b;
    if (n < SHORT) {
      let s = "";
      for (let i = p; i < p + n; i++) s += String.fromCharCode(b[i]);
      return s;
    }
    // TextDecoder has no true Latin-1 ("latin1" means windows-1252), but ASCII is
    // UTF-8 with the same meaning. Any byte above 0x7F either joins a multi-byte
    // sequence (the result gets shorter) or becomes U+FFFD, which no Latin-1
    // string contains: so same length and no U+FFFD means it was all ASCII.
    const bytes = b.subarray(p, p + n);
    const s = utf8.decode(bytes);
    return s.length === n && s.indexOf("\ufffd") < 0 ? s : units(bytes);
  }

  /** Reads a two-byte (UTF-16LE) string of `bytes` bytes; lone surrogates survive. */
  twoByte(bytes: number): string {
    if (bytes & 1) fail();
    const p = this.take(bytes);
    const b = this.b;
    const n = bytes >>> 1;
    if (n < SHORT) {
      let s = "";
      for (let i = p; i < p + bytes; i += 2) {
        s += String.fromCharCode(b[i] | (b[i + 1] << 8));
      }
      return s;
    }
    const at = b.byteOffset + p;
    // V8 pads so the units are aligned; copy when the input itself is not.
    const u16 = at & 1
      ? new Uint16Array(b.slice(p, p + bytes).buffer)
      : new Uint16Array(b.buffer, at, n);
    return units(u16);
  }

  /** Reads a UTF-8 string of `n` bytes (legacy 'S'). */
  utf8(n: number): string {
    const p = this.take(n);
    return utf8.decode(this.b.subarray(p, p + n));
  }
}

function units(a: Uint8Array | Uint16Array): string {
  let s = "";
  for (let i = 0; i < a.length; i += CHUNK) {
    s += String.fromCharCode.apply(
      null,
      a.subarray(i, i + CHUNK) as unknown as number[],
    );
  }
  return s;
}
