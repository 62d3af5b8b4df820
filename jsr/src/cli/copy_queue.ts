/**
 * `kvq copy`, second phase: the messages of the source's own queue not yet
 * handled (Deno's `enqueue` on a SQLite file or Postgres store, read with
 * kvq's own `kvqPendingMessages`), enqueued on the target with their
 * remaining delay, backoff schedule and dead-letter keys, a page per atomic
 * operation together with the checkpoint. On a KV Connect target the
 * target's `enqueue` is the queue made of keys (docs/queues-on-kv.md), so
 * any kvq process listening there delivers them. A message a listener held
 * at the time is copied as due when its lease ends; its attempt count
 * starts again at zero.
 *
 * A KV Connect source has no queue of its own: its queue made of keys is
 * ordinary entries, copied by the first phase.
 *
 * @module
 */

import type { KvKey } from "../types.ts";
import type { Checkpoint } from "./copy_checkpoint.ts";
import type { BatchLimits } from "./copy_entries.ts";
import { type CopyStore, innermost } from "./copy_store.ts";

/** Deno's longest delay: 30 days. */
const MAX_DELAY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Copies the source's queue messages after `cp.queueCursor`; updates `cp`
 * as pages commit. Resolves false when the source has no queue of its own.
 */
export async function copyQueue(
  from: CopyStore,
  to: CopyStore,
  cp: Checkpoint,
  checkpoint: KvKey,
  limits: BatchLimits,
  progress: () => void,
): Promise<boolean> {
  const source = innermost(from);
  if (typeof source.kvqPendingMessages !== "function") return false;
  // The queue made of keys takes at most 499 messages per atomic.
  const limit = Math.min(limits.count, 200);
  for (;;) {
    const page = await source.kvqPendingMessages({
      cursor: cp.queueCursor,
      limit,
    });
    if (page === undefined) return false;
    if (page.messages.length === 0 && page.cursor === null) return true;
    const op = to.atomic();
    const now = Date.now();
    for (const m of page.messages) {
      op.enqueue(m.value, {
        delay: Math.min(MAX_DELAY_MS, Math.max(0, m.dueMs - now)),
        keysIfUndelivered: m.keysIfUndelivered,
        ...(m.backoffSchedule === null
          ? {}
          : { backoffSchedule: m.backoffSchedule }),
      });
    }
    const next: Checkpoint = {
      ...cp,
      phase: page.cursor === null ? "done" : "queue",
      queueCursor: page.cursor,
      messages: cp.messages + page.messages.length,
    };
    op.set(checkpoint, next);
    const result = await op.commit();
    if (!result.ok) throw new Error("a copy batch was not committed");
    Object.assign(cp, next);
    progress();
    if (page.cursor === null) return true;
  }
}
