/**
 * kvq for Node.js and Bun: Deno KV's API, with durable queues, on a local
 * SQLite file that Deno can open too.
 *
 * ```ts
 * import { openKv } from "kvq";
 * const kv = await openKv("app.sqlite3");
 * ```
 *
 * This entry only picks the N-API transport; everything else is the
 * shared implementation in jsr/src.
 *
 * @module
 */

import { createOpenKv, type OpenKv } from "../../jsr/src/mod.ts";
import { napiTransport } from "./transport_napi.ts";

export * from "../../jsr/src/mod.ts";

/**
 * Opens a database: a file path (or `file:` URL), or `":memory:"` / no
 * argument for a private in-memory one. kvq's own options: `leaseMs` (how
 * long a delivered message is leased before another consumer may take it,
 * renewed while the handler runs; default 30000) and `durability` ("full",
 * the default: every resolved write is on disk; or "relaxed").
 */
export const openKv: OpenKv = createOpenKv(napiTransport);
