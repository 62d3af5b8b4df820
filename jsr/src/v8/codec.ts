/**
 * The two entry points of the codec, over a reused {@link Writer} and a fresh
 * {@link Reader} per call.
 *
 * @module
 */

import { engineError, ErrorClass } from "../errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

// The writer kept between calls. A getter that serialises while a serialisation is
// running finds it taken (null) and uses a fresh one.
let idle: Writer | null = null;

/**
 * Serialises a structured-clone value to V8 wire-format bytes, version 15, as
 * Deno's `core.serialize(value, { forStorage: true })` would (after its header).
 *
 * Getters run; symbol-keyed and non-enumerable properties are skipped; class
 * instances become plain objects. Throws Deno's errors for what cannot be cloned:
 * TypeError `"<source> could not be cloned."` for functions and symbols,
 * `"#<WeakMap> could not be cloned."` and the like for exotic objects, and a plain
 * Error `"#<SharedArrayBuffer> could not be cloned."`.
 *
 * @param value Any structured-clone value.
 * @returns A new byte array the caller owns.
 */
export function serialize(value: unknown): Uint8Array {
  const w = idle ?? new Writer();
  idle = null;
  try {
    w.header();
    w.value(value);
    return w.buf.slice(0, w.pos);
  } finally {
    w.reset();
    idle = w;
  }
}

/**
 * Deserialises V8 wire-format bytes (header versions 13 to 16) to a value.
 *
 * @param bytes The bytes, starting with the `FF` header tag; bytes after the value
 *   are ignored, as V8 ignores them.
 * @returns The value, with fresh objects (shared and circular references kept).
 * @throws RangeError `"could not deserialize value"` (Deno's error) for headerless,
 *   truncated or otherwise invalid input.
 */
export function deserialize(bytes: Uint8Array): unknown {
  try {
    const r = new Reader(bytes);
    r.header();
    return r.value();
  } catch {
    // Deno's class and message. Stored bytes that do not decode are the
    // store's failure, not the caller's (jsr/src/fault.ts): the code says
    // so, as the engine's own errors carry one.
    throw engineError(
      ErrorClass.RangeError,
      "KVQ_INVALID_VALUE",
      "could not deserialize value",
    );
  }
}
