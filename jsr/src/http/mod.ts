/**
 * HTTP enqueue: {@link httpEnqueue}, a web-standard `(Request) =>
 * Promise<Response>` handler that enqueues request bodies on a named
 * queue (for `Deno.serve`, `Bun.serve`), and {@link nodeHandler}, which
 * runs such a handler under Node's `http` server.
 *
 * @module
 */

export {
  type EnqueueTarget,
  httpEnqueue,
  type HttpEnqueueOptions,
} from "./enqueue.ts";
export {
  nodeHandler,
  type NodeRequestLike,
  type NodeResponseLike,
} from "./node.ts";
