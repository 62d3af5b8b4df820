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
  inspect(request: Uint8Array): Promise<Uint8Array>;
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

/** The platforms kvq ships an addon for (npm/package.json's napi targets). */
const SHIPPED = [
  "linux-x64-gnu",
  "linux-arm64-gnu",
  "linux-x64-musl",
  "linux-arm64-musl",
];

/** The loaded addon. */
export const addon: Addon = load();

// napi-rs's loader says neither the platform nor what to install; its
// error, with every attempt, stays as the cause.
function load(): Addon {
  try {
    return require("../native.cjs");
  } catch (error) {
    const { version } = require("../package.json") as { version: string };
    const report = process.report?.getReport() as
      | { header?: { glibcVersionRuntime?: string } }
      | undefined;
    const libc = process.platform !== "linux"
      ? ""
      : report?.header?.glibcVersionRuntime
      ? "-gnu"
      : "-musl";
    const platform = `${process.platform}-${process.arch}${libc}`;
    const advice = SHIPPED.includes(platform)
      ? `It comes in the npm package kvq-${platform}@${version}, an ` +
        `optional dependency of kvq that npm installs on ${platform} ` +
        `(not with --omit=optional, nor from a lock file made without ` +
        `it): \`npm install kvq-${platform}@${version}\`.`
      : `kvq ships no addon for ${platform} (only for ${SHIPPED.join(", ")}).`;
    throw new Error(
      `kvq: cannot load the native addon for ${platform}. ${advice} ` +
        `Looked for ./kvq.${platform}.node beside kvq's native.cjs, then ` +
        `the package kvq-${platform}; every attempt is in this error's cause.`,
      { cause: error },
    );
  }
}
