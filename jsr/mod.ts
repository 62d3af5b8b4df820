/**
 * kvq for Deno: `openKv()` with the whole `Deno.Kv` API plus durable
 * queues, on kvq's engine loaded through FFI.
 *
 * ```ts
 * import { openKv } from "jsr:@kvq/kvq";
 * const kv = await openKv("app.db");
 * ```
 *
 * Run with `deno run --allow-ffi --allow-read --allow-write --allow-env`
 * (`--allow-ffi` loads the library; read and write reach the database file;
 * `--allow-env=KVQ_LIB` is enough for the env part and is needed only to
 * point at the library with `KVQ_LIB`). No `--unstable` flag is needed.
 *
 * The library is found through {@link setLibraryPath}, then `KVQ_LIB`, then
 * the repository build (`cargo build --release -p kvq-deno`).
 *
 * @module
 */

import { ffiTransport } from "./ffi/transport.ts";
import { createOpenKv, type OpenKv } from "./src/mod.ts";

export * from "./src/mod.ts";
export { setLibraryPath } from "./ffi/loader.ts";

/**
 * Opens a kvq database: `openKv()` or `openKv(":memory:")` for a private
 * in-memory one, `openKv(path)` for a file in Deno KV's own format.
 */
export const openKv: OpenKv = createOpenKv(ffiTransport);
