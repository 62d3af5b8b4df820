/**
 * Targets of the queue-on-KV suite: conformance `Target`s whose `openKv`
 * returns the store wrapped by `withQueues`, so the conformance suite's
 * queue cases run on the wrapper unchanged, plus what this suite's own
 * cases need (the flavour, for worker processes, and whether the store is
 * a file other processes can open).
 *
 * @module
 */

import type { TempDir } from "../harness/platform.ts";
import type { Case, KvLike, Target } from "../harness/types.ts";
import {
  type Flavour,
  load,
  type Opened,
  type QueuedKvLike,
} from "./flavours.ts";

/** A target of this suite. */
export interface QueueTarget extends Target {
  /** The store and runtime, as worker processes name it. */
  flavour: Flavour;
  /** The flavour's modules. */
  opened: Opened;
  /** True when paths are files that other processes can open. */
  shared: boolean;
}

/** Options that keep the suite fast: short leases, a quick poll. */
export const FAST = { leaseMs: 300, pollIntervalMs: 50 };

/** Builds the target of `flavour`; `memory` opens ":memory:" stores. */
export async function queueTarget(
  flavour: Flavour,
  temp: TempDir,
  memory = false,
): Promise<QueueTarget> {
  const opened = await load(flavour);
  return {
    name: `kvqueue-${flavour}${memory ? "-memory" : ""}`,
    flavour,
    opened,
    shared: !memory,
    openKv: (path) => opened.open(path as string) as Promise<KvLike>,
    // The wrapper behaves as kvq does where kvq deviates from Deno.
    isDenoNative: false,
    kvqExtensions: true,
    tempPath: () => memory ? ":memory:" : temp.next(),
    KvU64: opened.KvU64 as unknown as Target["KvU64"],
    BadResource: opened.BadResource as unknown as Target["BadResource"],
  };
}

/** The target as a QueueTarget (every target of this suite is one). */
export function asQueue(t: Target): QueueTarget {
  return t as QueueTarget;
}

/**
 * Opens a fresh wrapped store on `t` with `options` (FAST by default),
 * runs `fn`, and closes it.
 */
export async function withQueue<T>(
  t: Target,
  fn: (kv: QueuedKvLike, path: string) => Promise<T>,
  options: unknown = FAST,
): Promise<T> {
  const path = t.tempPath();
  const kv = await asQueue(t).opened.open(path, options);
  try {
    return await fn(kv, path);
  } finally {
    try {
      kv.close();
    } catch {
      // Closed by the case.
    }
  }
}

/**
 * The conformance cases that cannot hold on the wrapper, with the reason
 * (docs/queues-on-kv.md lists them).
 */
const NOT_ON_WRAPPER: Record<string, string> = {
  "queue.listen: keysIfUndelivered [[]] writes the dead letter under the empty key":
    "the empty key cannot be written through the KV API: skipped as a dead-letter key",
};

/** Marks conformance cases that need a file or cannot hold on the wrapper. */
export function adaptConformance(cases: Case[]): Case[] {
  return cases.map((c) => ({
    ...c,
    skip: (t: Target) => {
      if (NOT_ON_WRAPPER[c.name] !== undefined) return NOT_ON_WRAPPER[c.name];
      if (/reopening a file database/.test(c.name) && !asQueue(t).shared) {
        return "needs a file";
      }
      return c.skip?.(t);
    },
  }));
}
