/**
 * Queues on any Deno.Kv: Deno's `enqueue` and `listenQueue` built only on
 * the KV operations every `Deno.Kv` has (get, list, atomic operations with
 * versionstamp checks, watch), so they work where the store itself has no
 * queue: Deno's own `Deno.openKv("https://…")` against a denokv server,
 * Deno Deploy's built-in KV, and kvq's `openKv`. No native code.
 *
 * ```ts
 * import { withQueues } from "jsr:@kvq/kvq";
 * const kv = withQueues(await Deno.openKv("https://kv.example.com/"));
 * kv.listenQueue((job) => console.log("handling", job));
 * await kv.enqueue({ send: "welcome" }, { delay: 1000 });
 * ```
 *
 * The key layout, which operators can inspect and other implementations
 * share, is in docs/queues-on-kv.md.
 *
 * @module
 */

export { QueuedAtomicOperation, QueuedKv, withQueues } from "./queued_kv.ts";
export { KvQueue } from "./queue.ts";
export { DEFAULT_PREFIX } from "./layout.ts";
export type { KvQueueOptions, KvStore, KvStoreAtomic } from "./types.ts";
