/**
 * kvq's own V8 wire-format value codec: the bytes Deno KV stores for a value
 * (v_encoding 1), produced and read identically on Node, Bun and Deno.
 *
 * `serialize` writes V8 format version 15 (`FF 0F`), which Deno 2.9.6 and Node read;
 * `deserialize` reads versions 13 to 16 (Deno 2.9.6 writes 16).
 *
 * @module
 */

export { deserialize, serialize } from "./codec.ts";
