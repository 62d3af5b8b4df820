/**
 * Host objects: the web platform objects (Blob, File, DOMException,
 * CryptoKey, and a few node: classes under Deno) that V8 hands to the
 * embedder's serializer delegate instead of writing them itself.
 *
 * Deno's delegate (deno_core) writes each one as the tag '\' (0x5C), the
 * varint 0xFFFFFFFF, then a *description*: an ordinary value, written by V8
 * like any other, that the object's brand function returns. It is a plain
 * object whose `type` names the class and whose other fields carry the
 * state (each handler in this folder documents its own). Reading it back
 * calls the deserializer registered for that type. The host object takes
 * its back-reference id before its description, as in V8.
 *
 * Under Deno, kvq uses Deno's own brand functions and deserializers, so its
 * bytes are Deno's and a Blob written by kvq reads back through
 * `Deno.openKv` in the same process (Deno keeps a Blob's bytes in the
 * process's blob store, not in the row). Elsewhere the portable handlers
 * write the same descriptions from public APIs.
 *
 * @module
 */

import { denoHosts } from "./deno.ts";
import { portableHosts } from "./portable.ts";

/** The marker after the host-object tag that announces a description. */
export const DESCRIBED = 0xffffffff;

/** Host objects of one runtime: how to recognise, describe and rebuild them. */
export interface HostCodec {
  /**
   * Whether V8 would hand `o` (an object that is no array, plain object
   * or built-in V8 writes itself) to the delegate. `tag` is
   * `Object.prototype.toString.call(o)`.
   */
  is(o: object, tag: string): boolean;
  /**
   * The description to write for `o` (one `is` accepted). Throws Deno's
   * error when `o` cannot be stored on this runtime.
   */
  describe(o: object): unknown;
  /**
   * The object `description` stands for. Throws when the description is
   * malformed or its type cannot be rebuilt on this runtime.
   */
  revive(description: unknown): object;
}

/** The host objects of the running runtime: Deno's own, else portable. */
export const hosts: HostCodec = denoHosts() ?? portableHosts;

export { portableHosts };
