/**
 * A reusable, growable byte buffer with little-endian writers: the one place
 * requests are assembled before they cross into the native library.
 *
 * @module
 */

// A buffer that grew past this is dropped after use so that one huge atomic
// does not pin megabytes for the life of the process.
const KEEP_MAX = 1 << 20;
const INITIAL = 4096;

/** Output bytes plus the write position; only `[0, pos)` is meaningful. */
export class ByteBuf {
  /** The bytes; replaced (not resized) when the buffer grows. */
  buf: Uint8Array = new Uint8Array(INITIAL);
  /** A DataView over {@link ByteBuf.buf}; replaced with it. */
  dv: DataView = new DataView(this.buf.buffer);
  /** The next write offset. */
  pos = 0;

  /** Starts a new request, keeping the buffer unless it grew very large. */
  reset(): void {
    this.pos = 0;
    if (this.buf.length > KEEP_MAX) {
      this.buf = new Uint8Array(INITIAL);
      this.dv = new DataView(this.buf.buffer);
    }
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Reallocates to hold at least `n` more bytes. */
  grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  /** One byte. */
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** A little-endian u32. */
  u32(v: number): void {
    this.ensure(4);
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** A little-endian f64. */
  f64(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Raw bytes, no length. */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** A u32 length, then the bytes. */
  bytes(v: Uint8Array): void {
    this.ensure(4 + v.length);
    this.dv.setUint32(this.pos, v.length, true);
    this.buf.set(v, this.pos + 4);
    this.pos += 4 + v.length;
  }

  /**
   * Reserves a u32 length slot and returns its offset; {@link endLength}
   * fills it with the number of bytes written since.
   */
  beginLength(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  /** Fills a slot reserved by {@link beginLength}. */
  endLength(at: number): void {
    this.dv.setUint32(at, this.pos - at - 4, true);
  }

  /**
   * A copy of the bytes written so far. A copy, not a view: a transport may
   * read its request after the call returns (FFI non-blocking calls do), and
   * the buffer is reused by the next request.
   */
  take(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads a little-endian u32 from `b` at `p`. */
export function readU32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}
