/**
 * Values: `KvU64`, and the three value encodings of Deno KV (V8, LE64,
 * bytes), chosen exactly as Deno chooses them.
 *
 * @module
 */

import { engineError, ErrorClass } from "./errors.ts";
import { deserialize, serialize } from "./v8/mod.ts";

/** Value encoding 1: V8 ValueSerializer bytes. */
export const ENC_V8 = 1;
/** Value encoding 2: an unsigned 64-bit little-endian integer. */
export const ENC_LE64 = 2;
/** Value encoding 3: raw bytes (a Uint8Array value). */
export const ENC_BYTES = 3;

const MAX_U64 = 0xffffffffffffffffn;

/**
 * kvq's own KvU64, for runtimes without `Deno.KvU64`: an unsigned 64-bit
 * integer stored with the LE64 encoding, the operand of `sum`, `min` and
 * `max`. Shaped like `Deno.KvU64`: frozen, one own enumerable property
 * `value`, `valueOf()` returns the bigint.
 */
export class KvqKvU64 {
  /** The integer, in `0n..2n ** 64n - 1n`. */
  readonly value: bigint;

  /**
   * Wraps `value`. Throws TypeError for a non-bigint and RangeError for a
   * value outside `0..2^64-1`, with Deno's messages.
   */
  constructor(value: bigint) {
    if (typeof value !== "bigint") {
      throw new TypeError(`Value must be a bigint: received ${typeof value}`);
    }
    if (value < 0n) {
      throw new RangeError(
        `Value must be a positive bigint: received ${value}`,
      );
    }
    if (value > MAX_U64) {
      throw new RangeError("Value must fit in a 64-bit unsigned integer");
    }
    this.value = value;
    Object.freeze(this);
  }

  /** The bigint, so that `u + 1n` works. */
  valueOf(): bigint {
    return this.value;
  }

  /** The integer in decimal. */
  toString(): string {
    return this.value.toString();
  }

  /** "Deno.KvU64", as Deno reports it. */
  get [Symbol.toStringTag](): string {
    return "Deno.KvU64";
  }

  /** Deno.inspect's rendering, as Deno's own: `[Deno.KvU64: 5n]`. */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return asKvU64(inspect(Object(this.value), options));
  }

  /** Node's and Bun's util.inspect rendering: `[Deno.KvU64: 5n]`. */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    return asKvU64(inspect(Object(this.value), options));
  }
}

// A boxed bigint as the runtime shows it (`[BigInt: 5n]`, colours and
// all), renamed, as Deno renders its KvU64.
function asKvU64(boxed: string): string {
  return boxed.replace("BigInt", "Deno.KvU64");
}

// Under Deno, values built with Deno's own KvU64 are accepted as well, so
// code written for Deno.Kv keeps working when it is pointed at kvq.
const DenoKvU64 = (globalThis as { Deno?: { KvU64?: unknown } }).Deno?.KvU64;
const denoKvU64 = typeof DenoKvU64 === "function"
  ? DenoKvU64 as abstract new (...args: never[]) => { value: bigint }
  : undefined;

/**
 * The KvU64 class kvq hands out: Deno's own `Deno.KvU64` where the runtime
 * has one (Deno with --unstable-kv), so values read through kvq pass
 * `instanceof Deno.KvU64` as they do with `Deno.openKv`; kvq's own class
 * everywhere else. Both behave alike, messages included.
 */
export const KvU64: typeof KvqKvU64 =
  (denoKvU64 ?? KvqKvU64) as typeof KvqKvU64;
/** A KvU64 instance. */
export type KvU64 = KvqKvU64;

/** Whether `v` is a kvq KvU64, or Deno's own `Deno.KvU64` under Deno. */
export function isKvU64(v: unknown): v is { readonly value: bigint } {
  return v instanceof KvqKvU64 ||
    (denoKvU64 !== undefined && v instanceof denoKvU64);
}

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get as (this: unknown) => string | undefined;

/**
 * The encoding Deno picks for a value: bytes for a Uint8Array (subclasses
 * included, by its internal tag), LE64 for a KvU64, V8 for the rest.
 */
export function valueEncoding(v: unknown): number {
  if (typeof v === "object" && v !== null) {
    if (ArrayBuffer.isView(v) && typedArrayTag.call(v) === "Uint8Array") {
      return ENC_BYTES;
    }
    if (isKvU64(v)) return ENC_LE64;
  }
  return ENC_V8;
}

/**
 * The bytes of `v` under `encoding` (from {@link valueEncoding}). For bytes
 * this is the caller's view itself (only its window), as Deno keeps it.
 * Throws the V8 serialiser's clone errors.
 */
export function valueBytes(encoding: number, v: unknown): Uint8Array {
  if (encoding === ENC_BYTES) {
    const u = v as Uint8Array;
    return new Uint8Array(u.buffer, u.byteOffset, u.byteLength);
  }
  if (encoding === ENC_LE64) return le64((v as { value: bigint }).value);
  return serialize(v);
}

/** The 8 little-endian bytes of a u64. */
export function le64(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, true);
  return out;
}

/** Serialises a queue payload: always V8, even a Uint8Array (as Deno). */
export function serializePayload(v: unknown): Uint8Array {
  return serialize(v);
}

/** Deserialises a queue payload. */
export function deserializePayload(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}

/**
 * Decodes a stored value. Bytes come back as a fresh Uint8Array with its
 * own buffer; an unknown encoding is Deno's TypeError.
 */
export function decodeValue(encoding: number, bytes: Uint8Array): unknown {
  switch (encoding) {
    case ENC_V8:
      return deserialize(bytes);
    case ENC_BYTES:
      return bytes.slice();
    case ENC_LE64:
      return new KvU64(
        new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true),
      );
    default:
      // A stored value this version cannot read: the store's, not the
      // caller's (jsr/src/fault.ts), as the engine's own error says.
      throw engineError(
        ErrorClass.TypeError,
        "KVQ_UNKNOWN_ENCODING",
        `The value encoding ${encoding} is unknown.`,
      );
  }
}
