/**
 * Helpers of the named-queue cases: a fresh store with the flavour's
 * named-queue API, fast queue options, and a recording listener.
 *
 * @module
 */

import type { KvLike, Target } from "../harness/types.ts";
import type { InfoLike, NamedQueueLike, QueuesApi } from "./flavours.ts";
import { asQueue } from "./targets.ts";

/** Queue options that keep the suite fast. */
export const QFAST = {
  leaseMs: 300,
  pollIntervalMs: 50,
  retryDelayMs: 10,
  retryJitter: 0,
};

/** `counts()` of a queue with nothing in it, in any state. */
export const NO_COUNTS = Object.freeze({
  ready: 0,
  delayed: 0,
  waiting: 0,
  running: 0,
  dead: 0,
});

/** What a case gets: the raw store, the API, and a queue maker. */
export interface NamedCtx {
  /** The store (Deno.openKv or kvq's openKv), not wrapped. */
  kv: KvLike;
  /** Its path. */
  path: string;
  /** The flavour's named-queue API. */
  api: QueuesApi;
  /** `api.queue(kv, name, { ...QFAST, ...options })`, closed at the end. */
  q(name: string, options?: Record<string, unknown>): NamedQueueLike;
}

/**
 * Opens a store on `t` (a fresh one, or `path`), runs `fn`, closes queues
 * and store.
 */
export async function withNamed<T>(
  t: Target,
  fn: (ctx: NamedCtx) => Promise<T>,
  path: string = t.tempPath(),
): Promise<T> {
  const opened = asQueue(t).opened;
  const kv = await opened.openRaw(path);
  const queues: NamedQueueLike[] = [];
  const ctx: NamedCtx = {
    kv,
    path,
    api: opened.api,
    q(name, options) {
      const q = opened.api.queue(kv, name, { ...QFAST, ...options });
      queues.push(q);
      return q;
    },
  };
  try {
    return await fn(ctx);
  } finally {
    for (const q of queues) q.close();
    try {
      kv.close();
    } catch {
      // Closed by the case.
    }
  }
}

/** A delivery as recorded. */
export interface Got {
  value: unknown;
  info: InfoLike;
  at: number;
}

/** Listens on `q`, recording deliveries; `fail` decides failures. */
export function recordNamed(
  q: NamedQueueLike,
  fail: (value: unknown, info: InfoLike) => boolean = () => false,
  options?: unknown,
): { got: Got[]; done: Promise<void> } {
  const got: Got[] = [];
  const done = q.listen((value: unknown, info: InfoLike) => {
    got.push({ value, info, at: Date.now() });
    if (fail(value, info)) {
      throw new Error(`failing ${String(value)} (expected)`);
    }
  }, options);
  return { got, done };
}

/** Runs `fn` with console.error silenced (expected failure lines). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const error = console.error;
  console.error = () => {};
  try {
    return await fn();
  } finally {
    console.error = error;
  }
}
