/**
 * Loads the N-API addon through the loader napi-rs generates (native.cjs):
 * a local build beside it, else the per-platform package
 * (`kvq-linux-x64-gnu`, ...), else one error listing every attempt.
 *
 * @module
 */

import { createRequire } from "node:module";

/** An open database in the addon (see native.d.ts). */
export interface AddonStore {
  close(): void;
  snapshotRead(request: Uint8Array): Uint8Array | Promise<Uint8Array>;
  atomicWrite(request: Uint8Array): Promise<Uint8Array>;
  atomicWriteMany(request: Uint8Array): Promise<Uint8Array>;
  dequeue(max: number, listener?: number): Promise<Uint8Array>;
  cancelDequeue(listener: number): void;
  finish(request: Uint8Array): Promise<Uint8Array>;
  watch(request: Uint8Array): AddonWatcher | Uint8Array;
}

/** A watcher in the addon. */
export interface AddonWatcher {
  next(): Promise<Uint8Array>;
  close(): void;
}

/** The addon's exports. */
export interface Addon {
  /** Opens off the JavaScript thread; an error reply if it cannot. */
  open(path: string, options: string): Promise<AddonStore | Uint8Array>;
}

// The built file (dist/index.js) and this source file both sit one folder
// below the package root, where native.cjs lives.
const require = createRequire(import.meta.url);

/** The loaded addon. */
export const addon: Addon = require("../native.cjs");
