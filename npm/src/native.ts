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
  dequeueNamed(
    max: number,
    listener: number,
    queue: Uint8Array,
    leaseMs: number,
  ): Promise<Uint8Array>;
  writeNamed(request: Uint8Array): Promise<Uint8Array>;
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
  "win32-x64-gnu",
];

/** The loaded addon. */
export const addon: Addon = load();

// napi-rs's loader says neither the platform nor what to install; its
// error, with every attempt, stays as the cause.
function load(): Addon {
  try {
    return require("../native.cjs");
  } catch (error) {
    if (process.platform === "win32" && process.arch === "x64") {
      const windows = loadWindowsGnu();
      if (windows !== undefined) return windows;
    }
    const { version } = require("../package.json") as { version: string };
    const report = process.report?.getReport() as
      | { header?: { glibcVersionRuntime?: string } }
      | undefined;
    const libc = process.platform !== "linux"
      ? ""
      : report?.header?.glibcVersionRuntime
      ? "-gnu"
      : "-musl";
    const platform = process.platform === "win32" && process.arch === "x64"
      ? "win32-x64-gnu"
      : `${process.platform}-${process.arch}${libc}`;
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

// kvq's Windows addon is built for x86_64-pc-windows-gnu and loads in the
// official, MSVC-built Node.js (it finds Node-API in the process at run
// time), but napi-rs's loader tries the -gnu build only in a MinGW-built
// Node.js and the -msvc one otherwise: so it is looked for here too. A
// file that is there but does not load is that error, not "not found".
function loadWindowsGnu(): Addon | undefined {
  for (const id of ["../kvq.win32-x64-gnu.node", "kvq-win32-x64-gnu"]) {
    try {
      return require(id);
    } catch (error) {
      if ((error as { code?: string }).code === "MODULE_NOT_FOUND") continue;
      throw new Error(`kvq: cannot load the native addon ${id}`, {
        cause: error,
      });
    }
  }
  return undefined;
}
