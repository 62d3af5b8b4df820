/**
 * Changing a named queue from outside its listeners: cancel a pending
 * message, redrive dead letters, purge. Each change is a checked commit on
 * the queue's keys (layout.ts), so it is safe while listeners run in any
 * process. The reads are in admin.ts.
 *
 * @module
 */

import type { KvEntry, KvKey } from "../types.ts";
import { leaseRecord, readyRecord } from "../kvqueue/layout.ts";
import type { KvStore } from "../kvqueue/types.ts";
import { all, checkId } from "./admin.ts";
import { enqueueNamed } from "./enqueue.ts";
import { groupAdvance, groupState } from "./groups.ts";
import type { DeadRecord, NamedLayout, WaitingRecord } from "./layout.ts";
import type { QueueConfig } from "./options.ts";

/**
 * Cancels the pending message `id` (ready, delayed or waiting in a group):
 * deletes it, and moves its group on if it was the head. Resolves true if
 * it was cancelled, false if no pending message has that id (unknown,
 * done, dead, or running now: a running message cannot be cancelled).
 */
export async function cancel(
  kv: KvStore,
  layout: NamedLayout,
  id: string,
): Promise<boolean> {
  checkId("cancel", id);
  for (let tries = 0; tries < 100; tries++) {
    const ready = (await all(kv, layout.readyPrefix)).find((e) =>
      layout.parse(e.key)?.id === id
    );
    if (ready !== undefined) {
      const record = readyRecord(ready.value);
      if (record === null) return false;
      const advance = await groupAdvance(kv, layout, record, Date.now());
      const op = kv.atomic();
      op.check({ key: ready.key, versionstamp: ready.versionstamp });
      op.check(...advance.checks);
      op.delete(ready.key);
      op.delete(layout.payload(id));
      advance.apply(op);
      if (advance.wakes) op.sum(layout.wakeKey, 1n);
      if ((await op.commit()).ok) return true;
      continue;
    }
    const waiting = (await all(kv, layout.waitingPrefix)).find((e) =>
      (e.value as WaitingRecord | null)?.id === id
    );
    if (waiting === undefined) return false;
    const op = kv.atomic();
    op.check({ key: waiting.key, versionstamp: waiting.versionstamp });
    op.delete(waiting.key);
    op.delete(layout.payload(id));
    if ((await op.commit()).ok) return true;
  }
  return false;
}

/**
 * Enqueues dead letters again, under their ids, with their attempts
 * counted from zero: those of `ids`, or all of them. A redriven message of
 * a group goes to the end of its group. Resolves with how many were
 * redriven (an id that is not a dead letter is skipped).
 */
export async function redrive(
  kv: KvStore,
  layout: NamedLayout,
  config: QueueConfig,
  ids?: string[],
): Promise<number> {
  let entries: KvEntry<unknown>[];
  const checked = checkIds(ids);
  if (checked === undefined) {
    entries = await all(kv, layout.deadPrefix);
  } else {
    const read = await getAllEntries(
      kv,
      checked.map((id) => layout.dead(id)),
    );
    entries = read.filter((e) => e.versionstamp !== null) as KvEntry<unknown>[];
  }
  let n = 0;
  for (const e of entries) {
    const d = e.value as DeadRecord;
    if (!(d?.payload instanceof Uint8Array)) continue;
    const named = d.record?.named;
    const res = await enqueueNamed(kv, layout, config, {
      value: undefined,
      delay: 0,
      group: named?.group,
      id: e.key[e.key.length - 1] as string,
      enqueuedAt: named?.enqueuedAt,
      noDedup: true,
      replaces: { key: e.key, versionstamp: e.versionstamp },
    }, d.payload);
    if (res !== null) n++;
  }
  return n;
}

/** The ids of `redrive`, checked; undefined for all. */
export function checkIds(ids: unknown): string[] | undefined {
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids)) {
    throw new TypeError("redrive: ids must be an array of message ids");
  }
  return ids.map((id) => checkId("redrive", id));
}

/** The `dead` option of `purge`, checked (default false). */
export function deadOption(options?: { dead?: boolean }): boolean {
  const dead = (options ?? {}).dead;
  if (dead !== undefined && typeof dead !== "boolean") {
    throw new TypeError("purge: dead must be a boolean");
  }
  return dead ?? false;
}

async function getAllEntries(kv: KvStore, keys: KvKey[]) {
  const reads = [];
  for (let i = 0; i < keys.length; i += 10) {
    reads.push(kv.getMany(keys.slice(i, i + 10)));
  }
  return (await Promise.all(reads)).flat();
}

/**
 * Deletes every pending message (ready, delayed, waiting in a group) and,
 * with `dead: true`, every dead letter; running messages are left to
 * finish. Resolves with how many messages were deleted. Enqueues that
 * commit while it runs may survive it.
 */
export async function purge(
  kv: KvStore,
  layout: NamedLayout,
  options?: { dead?: boolean },
): Promise<number> {
  const dead = deadOption(options);
  const [ready, waiting, groups, leases] = await Promise.all([
    all(kv, layout.readyPrefix),
    all(kv, layout.waitingPrefix),
    all(kv, layout.groupPrefix),
    all(kv, layout.leasePrefix),
  ]);
  const deads = dead ? await all(kv, layout.deadPrefix) : [];
  // Groups whose head is running keep it as their head.
  const running = new Map<string, number>();
  for (const l of leases) {
    const named = leaseRecord(l.value)?.named;
    if (named?.group !== undefined && named.seq !== undefined) {
      running.set(named.group, named.seq);
    }
  }
  const writes: ((op: ReturnType<KvStore["atomic"]>) => void)[] = [];
  let n = 0;
  for (const e of ready) {
    const id = layout.parse(e.key)?.id;
    if (id === undefined) continue;
    n++;
    writes.push((op) => {
      op.check({ key: e.key, versionstamp: e.versionstamp });
      op.delete(e.key);
      op.delete(layout.payload(id));
    });
  }
  for (const e of waiting) {
    const id = (e.value as WaitingRecord | null)?.id;
    n++;
    writes.push((op) => {
      op.delete(e.key);
      if (typeof id === "string") op.delete(layout.payload(id));
    });
  }
  for (const e of groups) {
    const group = e.key[e.key.length - 1] as string;
    const head = running.get(group);
    const state = groupState(e.value);
    writes.push((op) => {
      if (head === undefined || state === null) op.delete(e.key);
      else op.set(e.key, { last: head, head });
    });
  }
  for (const e of deads) {
    n++;
    writes.push((op) => op.delete(e.key));
  }
  // 10 per commit: each may carry a check, and the KV Connect server
  // allows 10 checks per atomic operation.
  for (let i = 0; i < writes.length; i += 10) {
    const op = kv.atomic();
    for (const w of writes.slice(i, i + 10)) w(op);
    // A message claimed meanwhile fails the check: delete the rest without it.
    if (!(await op.commit()).ok) {
      for (const w of writes.slice(i, i + 10)) {
        const one = kv.atomic();
        w(one);
        if (!(await one.commit()).ok) n--;
      }
    }
  }
  return n;
}
