/**
 * Hand-built wire buffers (docs/wire.md) for the FFI transport's own tests,
 * independent of the shared TypeScript's encoder.
 *
 * @module
 */

/** Appends wire primitives to a growing byte list. */
export class WireWriter {
  #bytes: number[] = [];

  /** A u8. */
  u8(v: number): this {
    this.#bytes.push(v & 0xff);
    return this;
  }

  /** A little-endian u32. */
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.#bytes.push(...b);
    return this;
  }

  /** A little-endian f64. */
  f64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.#bytes.push(...b);
    return this;
  }

  /** A u32 length, then the bytes. */
  bytes(v: Uint8Array): this {
    this.u32(v.byteLength);
    this.#bytes.push(...v);
    return this;
  }

  /** The buffer written so far. */
  done(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }
}

/** Reads wire primitives from a reply. */
export class WireReader {
  #view: DataView;
  #at = 0;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  /** A u8. */
  u8(): number {
    return this.#view.getUint8(this.#at++);
  }

  /** A little-endian u32. */
  u32(): number {
    const v = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return v;
  }

  /** A little-endian f64. */
  f64(): number {
    const v = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return v;
  }

  /** `n` raw bytes. */
  raw(n: number): Uint8Array {
    const v = this.#bytes.slice(this.#at, this.#at + n);
    this.#at += n;
    return v;
  }

  /** A u32 length, then the bytes. */
  bytes(): Uint8Array {
    return this.raw(this.u32());
  }

  /** Whether everything was read. */
  get done(): boolean {
    return this.#at === this.#bytes.length;
  }
}

/** Deno's key encoding of a key made of ASCII strings without NULs. */
export function stringKey(...parts: string[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    out.push(0x02, ...new TextEncoder().encode(part), 0x00);
  }
  return new Uint8Array(out);
}

/** A read of one key: the range [key, key + 0x00). */
export function readOne(key: Uint8Array): Uint8Array {
  return new WireWriter().u32(1).bytes(key).bytes(
    new Uint8Array([...key, 0]),
  ).u32(1).u8(0).done();
}

/** An atomic write of one `set` of a bytes value. */
export function setBytes(key: Uint8Array, value: Uint8Array): Uint8Array {
  return new WireWriter().u32(0).u32(1).u8(1).bytes(key).u8(3).bytes(value)
    .f64(-1).u32(0).done();
}

/** An atomic write of one enqueue of a V8 payload, due at once. */
export function enqueue(payload: Uint8Array): Uint8Array {
  return new WireWriter().u32(0).u32(0).u32(1).bytes(payload).f64(0).u32(0)
    .u8(0).done();
}

/** Throws unless the reply is a success; returns a reader past the status. */
export function ok(reply: Uint8Array): WireReader {
  const r = new WireReader(reply);
  const status = r.u8();
  if (status !== 0) {
    const cls = r.u8();
    const code = new TextDecoder().decode(r.bytes());
    const message = new TextDecoder().decode(r.bytes());
    throw new Error(`error reply (class ${cls}, ${code}): ${message}`);
  }
  return r;
}

/** The code of an error reply; throws on a success. */
export function errorCode(reply: Uint8Array): string {
  const r = new WireReader(reply);
  if (r.u8() !== 1) throw new Error("expected an error reply, got success");
  r.u8();
  return new TextDecoder().decode(r.bytes());
}
