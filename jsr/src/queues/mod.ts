/**
 * Named queues on any Deno.Kv, kvq's queue extensions: a handle per queue
 * name with its own listeners, concurrency, timeout and retry policy;
 * typed dispatch (`send(type, data)`, one handler per type, danet's
 * `{ type, data }` shape); ordering groups; deduplication; message ids and
 * metadata; dead letters with their last error; management (counts, peek,
 * cancel, redrive, purge, stats). Built on kvqueue's KV-only engine, so it
 * runs on every store with the `Deno.Kv` KV surface. Deno's own
 * `enqueue`/`listenQueue` are not touched.
 *
 * ```ts
 * import { openKv } from "jsr:@kvq/kvq";
 * const kv = await openKv("app.db");
 * const orders = kv.queue("orders", { deduplicate: true });
 * orders.listen({
 *   "order.created": async (order, { attempt, signal }) => {},
 * });
 * await orders.send("order.created", { id: 42 }, { group: "customer-7" });
 * ```
 *
 * @module
 */

export { NamedQueue, queue } from "./queue.ts";
export type { MessageHandler, MessageInfo } from "./queue.ts";
export type {
  QueueEnqueueOptions,
  QueueListenOptions,
  QueueOptions,
} from "./options.ts";
export type { QueueEnqueueInResult, QueueEnqueueResult } from "./enqueue.ts";
export { QueueTimeoutError } from "./errors.ts";
export { isTypedMessage, typed } from "./dispatch.ts";
export type { TypedHandlers, TypedMessage } from "./dispatch.ts";
export { listQueues } from "./admin.ts";
export type {
  DeadLetter,
  QueueCounts,
  QueueMessage,
  QueueStats,
} from "./admin.ts";
export { QUEUES_PREFIX } from "./layout.ts";
export type { QueueCounter } from "./layout.ts";
