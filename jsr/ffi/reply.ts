/**
 * Reads the replies of kvq's FFI library. Every symbol that answers returns
 * a pointer to a header (crates/kvq-deno/src/reply.rs):
 *
 *     offset 0   pointer  the wire reply's bytes (docs/wire.md)
 *     offset 8   usize    their length
 *     offset 24  pointer  a new handle (open, watch, a pending read) or null
 *
 * The bytes are copied into a JavaScript-owned buffer and the header is
 * freed at once, so nothing native outlives the call.
 *
 * @module
 */

import type { KvqSymbols } from "./symbols.ts";

/** A reply's bytes and, for the calls that make one, its handle. */
export interface RawReply {
  /** The wire reply: a status byte, then the payload or the error. */
  bytes: Uint8Array;
  /** The handle the call made, or null. */
  handle: Deno.PointerValue;
}

/** Copies a reply's bytes out and frees it. */
export function takeBytes(
  lib: KvqSymbols,
  reply: Deno.PointerValue,
): Uint8Array {
  return take(lib, reply).bytes;
}

/** Copies a reply's bytes and handle out and frees it. */
export function take(lib: KvqSymbols, reply: Deno.PointerValue): RawReply {
  if (reply === null) {
    // Only an allocation failure inside the library gets here.
    throw new Error("kvq: the native library returned no reply");
  }
  const view = new Deno.UnsafePointerView(reply);
  // A usize; replies stay far below 4 GiB, so the low half is the length.
  const length = view.getUint32(8);
  const bytes = new Uint8Array(length);
  if (length > 0) {
    Deno.UnsafePointerView.copyInto(view.getPointer(0)!, bytes);
  }
  const handle = view.getPointer(24);
  lib.kvq_reply_free(reply);
  return { bytes, handle };
}
