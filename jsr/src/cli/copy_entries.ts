/**
 * `kvq copy`, first phase: every entry of the source, in key order, a
 * batch per atomic operation on the target, each batch committed with the
 * checkpoint that records it (copy_checkpoint.ts). An entry keeps its
 * remaining expiry where the source can tell it (kvq's own `kvqExpiries`:
 * a SQLite file, a Postgres store); one already expired is skipped.
 *
 * @module
 */

import { ByteBuf } from "../buffer.ts";
import { writeKey } from "../key.ts";
import type { KvEntry, KvKey } from "../types.ts";
import { valueBytes, valueEncoding } from "../value.ts";
import type { Checkpoint } from "./copy_checkpoint.ts";
import { type CopyStore, innermost, isCheckpointKey } from "./copy_store.ts";

/** How a copy batches its writes. */
export interface BatchLimits {
  /** Most entries (or messages) per atomic operation. */
  count: number;
  /** Most key and value bytes per atomic operation (an estimate). */
  bytes: number;
}

/** The bytes of an encoded key. */
export function keyBytes(key: KvKey): Uint8Array {
  const buf = new ByteBuf();
  writeKey(buf, key);
  return buf.buf.slice(0, buf.pos);
}

/** The bytes a value is stored as (its encoding, then its bytes). */
export function storedValue(value: unknown): Uint8Array {
  const encoding = valueEncoding(value);
  const bytes = valueBytes(encoding, value);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = encoding;
  out.set(bytes, 1);
  return out;
}

/**
 * Copies the entries after `cp.entryCursor`; updates `cp` as batches
 * commit, calling `progress` after each. Resolves whether the source could
 * tell expiries (false: KV Connect, copied without expiry).
 */
export async function copyEntries(
  from: CopyStore,
  to: CopyStore,
  cp: Checkpoint,
  checkpoint: KvKey,
  limits: BatchLimits,
  progress: () => void,
): Promise<boolean> {
  const source = innermost(from);
  let expiryKnown = typeof source.kvqExpiries === "function";
  const iter = source.list(
    { prefix: [] },
    cp.entryCursor === null ? {} : { cursor: cp.entryCursor },
  );
  let batch: KvEntry<unknown>[] = [];
  let bytes = 0;
  const flush = async (cursor: string | null) => {
    if (batch.length === 0) return;
    const keys = batch.map((e) => e.key);
    const expiries = expiryKnown ? await source.kvqExpiries!(keys) : undefined;
    if (expiries === undefined) expiryKnown = false;
    const op = to.atomic();
    const now = Date.now();
    let expired = 0;
    batch.forEach((e, i) => {
      const at = expiries?.[i] ?? null;
      if (at === null) return void op.set(e.key, e.value);
      if (at <= now) return void expired++;
      op.set(e.key, e.value, { expireIn: at - now });
    });
    const next: Checkpoint = {
      ...cp,
      entryCursor: cursor,
      lastKey: batch[batch.length - 1].key,
      entries: cp.entries + batch.length - expired,
      expired: cp.expired + expired,
    };
    op.set(checkpoint, next);
    const result = await op.commit();
    if (!result.ok) throw new Error("a copy batch was not committed");
    Object.assign(cp, next);
    batch = [];
    bytes = 0;
    progress();
  };
  // The list cursor after the most recent entry taken: where a resumed
  // copy starts once everything up to it has committed.
  let taken: string | null = cp.entryCursor;
  for await (const entry of iter) {
    if (isCheckpointKey(entry.key)) continue;
    const size = keyBytes(entry.key).length + storedValue(entry.value).length;
    if (batch.length > 0 && bytes + size > limits.bytes) await flush(taken);
    batch.push(entry);
    bytes += size;
    taken = iter.cursor ?? null;
    if (batch.length >= limits.count) await flush(taken);
  }
  await flush(taken);
  return expiryKnown;
}
