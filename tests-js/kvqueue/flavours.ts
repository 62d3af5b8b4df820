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
 * - `kvq-bun`: kvq's `openKv` and `withQueues` from the built npm package,
 *   on Bun.
 *
 * Each flavour also gives the named-queue API (`queue`, `typed`, …) of the
 * same build, as {@link QueuesApi}.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "../harness/platform.ts";
import type { KvLike } from "../harness/types.ts";

/** A store and runtime the suite runs on. */
export type Flavour = "deno-native" | "kvq-node" | "kvq-deno" | "kvq-bun";

/** What a handler of a named queue receives as its second argument. */
export interface InfoLike {
  id: string;
  queue: string;
  attempt: number;
  enqueuedAt: Date;
  group: string | null;
  seq: number | null;
  signal: AbortSignal;
}

/** The result of an enqueue on a named queue. */
export interface EnqueuedLike {
  ok: boolean;
  versionstamp: string;
  id: string;
  duplicate: boolean;
}

/** A named queue handle, as the suite uses it. */
export interface NamedQueueLike {
  readonly name: string;
  storedIn(): Promise<"engine" | "keys">;
  enqueue(value: unknown, options?: unknown): Promise<EnqueuedLike>;
  send(type: string, data?: unknown, options?: unknown): Promise<EnqueuedLike>;
  enqueueIn(
    atomic: unknown,
    value: unknown,
    options?: unknown,
  ): Promise<{ id: string; duplicate: boolean }>;
  listen(handler: unknown, options?: unknown): Promise<void>;
  close(): void;
  counts(): Promise<Record<string, number>>;
  peek(options?: unknown): Promise<Record<string, unknown>[]>;
  cancel(id: string): Promise<boolean>;
  deadLetters(options?: unknown): Promise<Record<string, unknown>[]>;
  redrive(ids?: string[]): Promise<number>;
  purge(options?: unknown): Promise<number>;
  stats(options?: unknown): Promise<Record<string, unknown>>;
}

/** The named-queue API of a build. */
export interface QueuesApi {
  /** `queue(kv, name, options)`. */
  queue(kv: unknown, name: string, options?: unknown): NamedQueueLike;
  /** `typed(handlers)`. */
  typed(handlers: Record<string, (data: unknown) => unknown>): (
    m: unknown,
  ) => unknown;
  /** `listQueues(kv)`. */
  listQueues(kv: unknown): Promise<string[]>;
  /** `httpEnqueue(queue, options)`, when built. */
  httpEnqueue?: (
    q: NamedQueueLike,
    options?: unknown,
  ) => (req: Request) => Promise<Response>;
  /** `nodeHandler(handler)`, when built. */
  nodeHandler?: (h: (req: Request) => Promise<Response>) => unknown;
}

/** The repository root (also from a bundle of the suite for Node 20). */
export const ROOT: string = repoRoot();

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
  /** The named-queue API. */
  api: QueuesApi;
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
    const api = await importFile(
      "jsr/src/queues/mod.ts",
    ) as unknown as QueuesApi;
    const http = await importFile("jsr/src/http/mod.ts").catch(() => ({}));
    return {
      api: { ...api, ...http } as QueuesApi,
      open: async (path, o) => withQueues(await openRaw(path), o),
      wrap: (kv, o) => withQueues(kv, o),
      openRaw,
      KvU64: Deno.KvU64,
      BadResource: Deno.errors.BadResource,
    };
  }
  const mod = await importFile(
    flavour === "kvq-deno" ? "jsr/mod.ts" : "npm/dist/index.js",
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
    api: mod as unknown as QueuesApi,
    open: async (path, o) => withQueues(await mod.openKv(path), o),
    wrap: (kv, o) => withQueues(kv, o),
    openRaw: (path) => mod.openKv(path),
    KvU64: mod.KvU64,
    BadResource: mod.BadResource,
  };
}
