/**
 * The N-API transport: the eight operations of `Transport` over the addon.
 * Used on Node.js and Bun. Thin: it only turns error replies of the two
 * synchronous calls into exceptions.
 *
 * @module
 */

import { availableParallelism } from "node:os";
import process from "node:process";
import type { Transport } from "../../jsr/src/transport.ts";
import { unwrapError } from "../../jsr/src/transport.ts";
import { addon, type AddonStore, type AddonWatcher } from "./native.ts";

/** kvq's transport for Node.js and Bun. */
export const napiTransport: Transport = {
  name: "napi",
  // Pays on Node with a core to spare (awake.ts); Bun's own loop answers as
  // fast without it, and Deno running the npm package was never measured.
  keepLoopAwake: !("bun" in process.versions) &&
    !("deno" in process.versions) && availableParallelism() >= 2,
  // The addon opens on a thread of its own (the engine's open_then) and
  // settles the promise from there: the event loop never waits on a lock.
  async open(path: string, options: string): Promise<AddonStore> {
    const store = await addon.open(path, options);
    if (store instanceof Uint8Array) unwrapError(store);
    return store;
  },
  close: (store) => (store as AddonStore).close(),
  snapshotRead: (store, request) => (store as AddonStore).snapshotRead(request),
  atomicWrite: (store, request) => (store as AddonStore).atomicWrite(request),
  atomicWriteMany: (store, request) =>
    (store as AddonStore).atomicWriteMany(request),
  dequeue: (store, max, listener) =>
    (store as AddonStore).dequeue(max, listener),
  dequeueNamed: (store, max, listener, queue, leaseMs) =>
    (store as AddonStore).dequeueNamed(max, listener, queue, leaseMs),
  writeNamed: (store, request) => (store as AddonStore).writeNamed(request),
  cancelDequeue: (store, listener) =>
    (store as AddonStore).cancelDequeue(listener),
  finish: (store, request) => (store as AddonStore).finish(request),
  inspect: (store, request) => (store as AddonStore).inspect(request),
  // The engine checks and starts a watch synchronously today: a refusal
  // throws here, and the watcher is already there.
  watch(store, request): Promise<AddonWatcher> {
    const watcher = (store as AddonStore).watch(request);
    if (watcher instanceof Uint8Array) unwrapError(watcher);
    return Promise.resolve(watcher);
  },
  watchNext: (watcher) => (watcher as AddonWatcher).next(),
  watchClose: (watcher) => (watcher as AddonWatcher).close(),
};
