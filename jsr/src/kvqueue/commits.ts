/**
 * Moves of messages between keys, committed in batches: every move leaves
 * one key (a ready or a lease key) guarded by a versionstamp check on it,
 * so of several processes trying the same move exactly one succeeds.
 *
 * Up to `checksPerAtomic` moves share one atomic operation (100 by
 * default, 10 once the store refuses 100: the KV Connect server allows 10
 * checks per atomic, Deno's local KV and kvq 100), batches are committed
 * in parallel,
 * and a batch refused because one of its checks failed is committed again
 * without the moves that lost their race, so one lost race does not cost
 * the others their turn.
 *
 * @module
 */

import type { AtomicCheck, KvEntryMaybe, KvKey } from "../types.ts";
import { addWake } from "./enqueue.ts";
import type { Layout } from "./layout.ts";
import type { KvStore, KvStoreAtomic } from "./types.ts";

// Below the stores' limits (1000 mutations, 819200 bytes per atomic), with
// room for the wake-up bump and for the estimate's slack.
const MAX_MUTATIONS = 900;
const MAX_WEIGHT = 400_000;

/**
 * One move of one message, guarded by a check on the key it leaves (and,
 * for a message of an ordering group, on its group's state key).
 */
export interface Move {
  /**
   * The key the message leaves and the versionstamp it was read at, first;
   * then any other key the move read to decide its writes.
   */
  checks: AtomicCheck[];
  /** Adds the move's mutations (the delete of the checked key included). */
  apply(op: KvStoreAtomic): void;
  /** Whether the move makes a message ready (listeners are woken). */
  wakes: boolean;
  /** How many mutations `apply` adds. */
  mutations: number;
  /** About how many bytes `apply` writes. */
  weight: number;
  /**
   * A counter (KvU64) the move adds one to, summed once per commit for
   * all the moves of a batch (named queues' statistics); none when absent.
   */
  counter?: KvKey;
  /**
   * Called once with the move's result by the lease table that commits it
   * (a move that hands a lease on starts it, or gives it up); only
   * leases.ts calls it.
   */
  settled?(result: MoveResult): void;
}

/**
 * What became of a move: the commit's versionstamp, `null` when its check
 * failed (another process moved the message first), or the error the
 * store raised.
 */
export type MoveResult = string | null | Error;

/**
 * Whether the store refused a write as invalid, so that it would refuse it
 * again (a key or value over a limit, too many mutations; over KV Connect
 * a 400 answer), as opposed to failing for now (busy, locked, offline).
 */
export function isRefusal(error: Error): boolean {
  return !isBusy(error) &&
    /too large|too many|cannot be empty|exceeds|status=400/i.test(
      error.message,
    );
}

/**
 * Whether the store was busy (another process held its write lock: Deno's
 * local SQLite reports "database is locked"): normal when processes share
 * a file, retried soon and without a log line.
 */
export function isBusy(error: Error): boolean {
  return /locked|busy/i.test(error.message);
}

/** A short random wait before retrying after {@link isBusy}, in ms. */
export function busyDelay(): number {
  return 5 + Math.random() * 20;
}

/** How many checks one atomic operation may carry, shared by a queue. */
export interface ChecksLimit {
  /** The current limit. */
  max: number;
  /**
   * Whether the limit drops to the KV Connect server's 10 the first time
   * the store refuses more ("Too many checks").
   */
  auto: boolean;
}

/** The KV Connect server's limit of checks per atomic operation. */
export const KV_CONNECT_CHECKS = 10;

/** Commits `moves` in batches; one result per move, in order. */
export async function commitMoves(
  kv: KvStore,
  layout: Layout,
  moves: Move[],
  limit: ChecksLimit,
): Promise<MoveResult[]> {
  const results: MoveResult[] = new Array(moves.length);
  const batches = group(moves, limit.max);
  await Promise.all(
    batches.map((batch) =>
      commitGroup(kv, layout, moves, batch, results, 0, limit)
    ),
  );
  return results;
}

// How many times a batch that lost races is re-read and committed again
// before its moves are tried one by one.
const MAX_RECHECKS = 3;

/**
 * Commits the moves `batch` (indexes into `moves`) as one operation. When
 * a check fails, the checked keys are read again and the moves whose keys
 * are unchanged are committed again together: one read and one commit per
 * lost race, rather than one commit per move. An error other than a busy
 * store is retried move by move, so that it lands on the move that caused
 * it (a refused dead-letter key, say).
 */
async function commitGroup(
  kv: KvStore,
  layout: Layout,
  moves: Move[],
  batch: number[],
  results: MoveResult[],
  rechecks: number,
  limit: ChecksLimit,
): Promise<void> {
  const result = await commitBatch(kv, layout, batch.map((i) => moves[i]));
  if (
    result instanceof Error && limit.auto && batch.length > KV_CONNECT_CHECKS &&
    /too many checks/i.test(result.message)
  ) {
    limit.max = KV_CONNECT_CHECKS;
    limit.auto = false;
    const parts = group(batch.map((i) => moves[i]), KV_CONNECT_CHECKS);
    await Promise.all(parts.map((part) =>
      commitGroup(
        kv,
        layout,
        moves,
        part.map((j) => batch[j]),
        results,
        rechecks,
        limit,
      )
    ));
    return;
  }
  if (
    typeof result === "string" || batch.length === 1 ||
    (result instanceof Error && isBusy(result))
  ) {
    for (const i of batch) results[i] = result;
    return;
  }
  let left = batch;
  if (result === null && rechecks < MAX_RECHECKS) {
    const current = await readStamps(kv, batch.map((i) => moves[i]))
      .catch(() => null);
    if (current !== null) {
      left = batch.filter((i, j) =>
        moves[i].checks.every((c, k) => current[j][k] === c.versionstamp)
      );
      for (const i of batch) if (!left.includes(i)) results[i] = null;
      if (left.length < batch.length) {
        if (left.length === 0) return;
        return commitGroup(
          kv,
          layout,
          moves,
          left,
          results,
          rechecks + 1,
          limit,
        );
      }
    }
  }
  await Promise.all(left.map(async (i) => {
    results[i] = await commitBatch(kv, layout, [moves[i]]);
  }));
}

/**
 * The current versionstamps of the keys each move checks (one array per
 * move), 10 keys per read.
 */
async function readStamps(
  kv: KvStore,
  moves: Move[],
): Promise<(string | null)[][]> {
  const keys = moves.flatMap((m) => m.checks.map((c) => c.key));
  const reads: Promise<KvEntryMaybe<unknown>[]>[] = [];
  for (let i = 0; i < keys.length; i += 10) {
    reads.push(kv.getMany(keys.slice(i, i + 10)));
  }
  const stamps = (await Promise.all(reads)).flat().map((e) => e.versionstamp);
  let at = 0;
  return moves.map((m) => stamps.slice(at, at += m.checks.length));
}

/** Splits moves (by index) into batches within the atomic limits. */
function group(moves: Move[], checksPerAtomic: number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let checks = 0;
  let mutations = 0;
  let weight = 0;
  for (let i = 0; i < moves.length; i++) {
    const m = moves[i];
    if (
      current.length > 0 &&
      (checks + m.checks.length > checksPerAtomic ||
        mutations + m.mutations > MAX_MUTATIONS ||
        weight + m.weight > MAX_WEIGHT)
    ) {
      batches.push(current);
      current = [];
      checks = 0;
      mutations = 0;
      weight = 0;
    }
    current.push(i);
    checks += m.checks.length;
    mutations += m.mutations;
    weight += m.weight;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

async function commitBatch(
  kv: KvStore,
  layout: Layout,
  moves: Move[],
): Promise<MoveResult> {
  try {
    const op = kv.atomic();
    let wakes = false;
    const counters = new Map<string, { key: KvKey; n: bigint }>();
    for (const m of moves) {
      op.check(...m.checks);
      m.apply(op);
      wakes ||= m.wakes;
      if (m.counter !== undefined) {
        const name = JSON.stringify(m.counter);
        const c = counters.get(name);
        if (c === undefined) counters.set(name, { key: m.counter, n: 1n });
        else c.n++;
      }
    }
    for (const c of counters.values()) op.sum(c.key, c.n);
    if (wakes) addWake(op, layout);
    const res = await op.commit();
    return res.ok ? res.versionstamp : null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
