/**
 * The stores the queue-on-KV suite runs on, by name, so that a parent and
 * the worker processes it starts open the same kind of store:
 *
 * - `deno-native`: real Deno's `Deno.openKv` (Deno with --unstable-kv),
 *   with the queue imported from jsr/src/kvqueue alone: no kvq native
 *   code is loaded.
 * - `kvq-node`: kvq's `openKv` and `withQueues` from the built npm
 *   package (npm/dist), on Node.
 * - `kvq-deno`: kvq's `openKv` and `withQueues` from jsr/mod.ts, on Deno
 *   through FFI.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { KvLike } from "../harness/types.ts";

/** A store and runtime the suite runs on. */
export type Flavour = "deno-native" | "kvq-node" | "kvq-deno";

/** The repository root. */
export const ROOT: string = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
);

/** A wrapped store, as the suite uses it (the Deno.Kv surface). */
export type QueuedKvLike = KvLike & {
  /** The queue of the wrapper (KvQueue). */
  readonly queue: {
    enqueueIn(op: unknown, value: unknown, options?: unknown): unknown;
    close(): void;
  };
  /** The wrapped store. */
  readonly store: KvLike;
};

/** What a flavour gives: opening a wrapped store, and its classes. */
export interface Opened {
  /** Opens `path` and wraps it with `withQueues(kv, queueOptions)`. */
  open(path: string, queueOptions?: unknown): Promise<QueuedKvLike>;
  /** Wraps an open store. */
  wrap(kv: KvLike, queueOptions?: unknown): QueuedKvLike;
  /** Opens `path` without the wrapper. */
  openRaw(path: string): Promise<KvLike>;
  /** The KvU64 class of the store. */
  KvU64: new (v: bigint) => { value: bigint };
  /** The BadResource class of the store. */
  BadResource: new (...args: never[]) => Error;
}

// Computed specifiers: the Deno-native runner must not load kvq's FFI.
async function importFile(rel: string): Promise<Record<string, unknown>> {
  const file = join(ROOT, rel);
  if (!existsSync(file)) {
    throw new Error(`${rel} is missing: build kvq first (make build)`);
  }
  return await import(pathToFileURL(file).href);
}

/** Loads `flavour`'s modules. */
export async function load(flavour: Flavour): Promise<Opened> {
  if (flavour === "deno-native") {
    const { withQueues } = await importFile("jsr/src/kvqueue/mod.ts") as {
      withQueues: (kv: unknown, o?: unknown) => QueuedKvLike;
    };
    const openRaw = async (path: string) =>
      await Deno.openKv(path) as unknown as KvLike;
    return {
      open: async (path, o) => withQueues(await openRaw(path), o),
      wrap: (kv, o) => withQueues(kv, o),
      openRaw,
      KvU64: Deno.KvU64,
      BadResource: Deno.errors.BadResource,
    };
  }
  const mod = await importFile(
    flavour === "kvq-node" ? "npm/dist/index.js" : "jsr/mod.ts",
  ) as {
    withQueues?: (kv: unknown, o?: unknown) => QueuedKvLike;
    openKv: (path: string) => Promise<KvLike>;
    KvU64: new (v: bigint) => { value: bigint };
    BadResource: new (...args: never[]) => Error;
  };
  const withQueues = mod.withQueues;
  if (withQueues === undefined) {
    throw new Error(`kvq's ${flavour} build has no withQueues: make build`);
  }
  return {
    open: async (path, o) => withQueues(await mod.openKv(path), o),
    wrap: (kv, o) => withQueues(kv, o),
    openRaw: (path) => mod.openKv(path),
    KvU64: mod.KvU64,
    BadResource: mod.BadResource,
  };
}
