/**
 * Hand-built wire buffers (docs/wire.md) for the FFI transport's own tests:
 * the layouts are written out here, independent of the shared encoder;
 * only the byte-level primitives (ByteBuf, Reply) are shared.
 *
 * @module
 */

import { ByteBuf, readU32 } from "../../jsr/src/buffer.ts";
import { Reply } from "../../jsr/src/wire.ts";

/**
 * Chainable writes over the shared byte buffer, so a test spells out a
 * request's layout field by field.
 */
export class WireWriter {
  #buf = new ByteBuf();

  /** A u8. */
  u8(v: number): this {
    this.#buf.u8(v);
    return this;
  }

  /** A little-endian u32. */
  u32(v: number): this {
    this.#buf.u32(v);
    return this;
  }

  /** A little-endian f64. */
  f64(v: number): this {
    this.#buf.f64(v);
    return this;
  }

  /** A u32 length, then the bytes. */
  bytes(v: Uint8Array): this {
    this.#buf.bytes(v);
    return this;
  }

  /** The buffer written so far. */
  done(): Uint8Array {
    return this.#buf.take();
  }
}

/**
 * The shared reply cursor, plus what the tests check beyond it: every read
 * is bounds-checked (the shared cursor trusts the engine and would read a
 * truncated reply as zeros), and `raw` and `done`.
 */
export class WireReader extends Reply {
  /** Throws unless `n` more bytes are there. */
  #need(n: number): void {
    if (this.p + n > this.b.length) {
      throw new RangeError(
        `reply ends at ${this.b.length}: cannot read ${n} at ${this.p}`,
      );
    }
  }

  override u8(): number {
    this.#need(1);
    return super.u8();
  }

  override u32(): number {
    this.#need(4);
    return super.u32();
  }

  override f64(): number {
    this.#need(8);
    return super.f64();
  }

  override bytes(): Uint8Array {
    this.#need(4);
    const n = readU32(this.b, this.p);
    this.#need(4 + n);
    return super.bytes();
  }

  /** `n` raw bytes, copied. */
  raw(n: number): Uint8Array {
    this.#need(n);
    const v = this.b.slice(this.p, this.p + n);
    this.p += n;
    return v;
  }

  /** Whether everything was read. */
  get done(): boolean {
    return this.p === this.b.length;
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
  if (reply[0] !== 0) {
    const cls = r.u8();
    const code = new TextDecoder().decode(r.bytes());
    const message = new TextDecoder().decode(r.bytes());
    throw new Error(`error reply (class ${cls}, ${code}): ${message}`);
  }
  return r;
}

/** The code of an error reply; throws on a success. */
export function errorCode(reply: Uint8Array): string {
  if (reply[0] !== 1) throw new Error("expected an error reply, got success");
  const r = new WireReader(reply);
  r.u8();
  return new TextDecoder().decode(r.bytes());
}
