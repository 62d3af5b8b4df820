/**
 * Where `kvq copy` keeps its progress: one key in the target,
 * `["__kvq", "copy", <source id>]`, written in the same atomic operation
 * as each batch it records. So after a kill at any moment, the checkpoint
 * and the copied data agree exactly: a resumed copy starts after the last
 * committed batch, writes no entry twice that it need not, and enqueues no
 * queue message twice. The source id is a hash of the source's path or
 * URL (never the URL itself, which may hold a password). A finished copy
 * leaves its checkpoint (phase "done"), so running it again does not
 * enqueue the queue messages a second time unless asked (`--restart`).
 *
 * @module
 */

import type { KvKey } from "../types.ts";
import { CHECKPOINT_PREFIX, type CopyStore } from "./copy_store.ts";

/** How far a copy got. */
export interface Checkpoint {
  /** "entries", then "queue", then "done". */
  phase: "entries" | "queue" | "done";
  /** The list cursor after the last copied entry (null: from the start). */
  entryCursor: string | null;
  /** The last copied key, for the progress line. */
  lastKey: KvKey | null;
  /** The queue page cursor after the last copied message. */
  queueCursor: string | null;
  /** Entries copied so far. */
  entries: number;
  /** Entries skipped because they had already expired. */
  expired: number;
  /** Queue messages copied so far. */
  messages: number;
  /** When the copy started (epoch ms). */
  startedAt: number;
}

/** A fresh checkpoint. */
export function fresh(): Checkpoint {
  return {
    phase: "entries",
    entryCursor: null,
    lastKey: null,
    queueCursor: null,
    entries: 0,
    expired: 0,
    messages: 0,
    startedAt: Date.now(),
  };
}

/** A short stable id of a source path or URL (FNV-1a, 64 bits, hex). */
export function sourceId(source: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(source)) {
    h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

/** The checkpoint key of a copy from `source`. */
export function checkpointKey(source: string): KvKey {
  return [...CHECKPOINT_PREFIX, sourceId(source)];
}

/** Reads the checkpoint of a copy from `source` in `target`, if any. */
export async function readCheckpoint(
  target: CopyStore,
  source: string,
): Promise<Checkpoint | null> {
  const entry = await target.get(checkpointKey(source));
  return entry.versionstamp === null ? null : entry.value as Checkpoint;
}
