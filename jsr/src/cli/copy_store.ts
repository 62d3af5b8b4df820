/**
 * What `kvq copy` needs of a store, whichever `openKv` opened it, and the
 * few facts about its kind: where an entry's expiry and the store's own
 * queue can be read (kvq's own `kvqExpiries` and `kvqPendingMessages` on
 * a SQLite file or a Postgres store), and where they cannot (KV Connect).
 *
 * @module
 */

import type { KvqPendingPage } from "../inspect.ts";
import type {
  KvEntry,
  KvKey,
  KvListOptions,
  KvListSelector,
} from "../types.ts";

/** An atomic operation, as far as a copy uses one. */
export interface CopyAtomic {
  /** Sets a key, with a relative expiry. */
  set(key: KvKey, value: unknown, options?: { expireIn?: number }): unknown;
  /** Enqueues a message on the store's queue. */
  enqueue(
    value: unknown,
    options?: {
      delay?: number;
      keysIfUndelivered?: KvKey[];
      backoffSchedule?: number[];
    },
  ): unknown;
  /** Commits. */
  commit(): Promise<{ ok: boolean }>;
}

/** A store, as far as a copy uses one. */
export interface CopyStore {
  /** Reads one key. */
  get(key: KvKey): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Iterates a range; the iterator has Deno's `cursor`. */
  list(
    selector: KvListSelector,
    options?: KvListOptions,
  ): AsyncIterable<KvEntry<unknown>> & { readonly cursor?: string };
  /** Starts an atomic operation. */
  atomic(): CopyAtomic;
  /** Closes the store. */
  close(): void;
  /** kvq's own: entry expiries (absent or undefined: cannot tell). */
  kvqExpiries?(keys: readonly KvKey[]): Promise<(number | null)[] | undefined>;
  /** kvq's own: the store's queue (absent or undefined: none of its own). */
  kvqPendingMessages?(
    options?: { cursor?: string | null; limit?: number },
  ): Promise<KvqPendingPage | undefined>;
}

/** The kind of store a path or URL opens. */
export type StoreKind = "file" | "postgres" | "kv-connect";

/** The kind of store `path` names (as openKv reads it). */
export function storeKind(path: string): StoreKind {
  if (/^https?:\/\//i.test(path)) return "kv-connect";
  if (/^postgres(ql)?:\/\//i.test(path)) return "postgres";
  return "file";
}

/** `path` fit to print: a URL without its password, query or token. */
export function shown(path: string): string {
  try {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
    const url = new URL(path);
    if (url.password) url.password = "***";
    url.search = "";
    return url.href;
  } catch {
    return path;
  }
}

/**
 * The reserved prefix of copy checkpoints in a target (copy_checkpoint.ts);
 * never copied and never compared.
 */
export const CHECKPOINT_PREFIX: KvKey = ["__kvq", "copy"];

/** Whether `key` lies under {@link CHECKPOINT_PREFIX}. */
export function isCheckpointKey(key: KvKey): boolean {
  return key.length >= 2 && key[0] === CHECKPOINT_PREFIX[0] &&
    key[1] === CHECKPOINT_PREFIX[1];
}

/** The store behind a queue wrapper (withQueues' `store`), or itself. */
export function innermost(kv: CopyStore): CopyStore {
  const inner = (kv as { store?: CopyStore }).store;
  return inner !== undefined && typeof inner.list === "function" ? inner : kv;
}
