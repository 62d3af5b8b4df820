/**
 * Moves of messages between keys, committed in batches: every move leaves
 * one key (a ready or a lease key) guarded by a versionstamp check on it,
 * so of several processes trying the same move exactly one succeeds.
 *
 * Up to `checksPerAtomic` moves share one atomic operation (the KV Connect
 * server allows 10 checks per atomic), batches are committed in parallel,
 * and a batch refused because one of its checks failed is retried move by
 * move, so one lost race (or one invalid write) does not cost the others
 * their turn.
 *
 * @module
 */

import type { AtomicCheck } from "../types.ts";
import { addWake } from "./enqueue.ts";
import type { Layout } from "./layout.ts";
import type { KvStore, KvStoreAtomic } from "./types.ts";

// Below the stores' limits (1000 mutations, 819200 bytes per atomic), with
// room for the wake-up bump and for the estimate's slack.
const MAX_MUTATIONS = 900;
const MAX_WEIGHT = 400_000;

/** One move of one message, guarded by a check on the key it leaves. */
export interface Move {
  /** The key the message leaves and the versionstamp it was read at. */
  check: AtomicCheck;
  /** Adds the move's mutations (the delete of the checked key included). */
  apply(op: KvStoreAtomic): void;
  /** Whether the move makes a message ready (listeners are woken). */
  wakes: boolean;
  /** How many mutations `apply` adds. */
  mutations: number;
  /** About how many bytes `apply` writes. */
  weight: number;
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
  return !/locked|busy/i.test(error.message) &&
    /too large|too many|cannot be empty|exceeds|status=400/i.test(
      error.message,
    );
}

/** Commits `moves` in batches; one result per move, in order. */
export async function commitMoves(
  kv: KvStore,
  layout: Layout,
  moves: Move[],
  checksPerAtomic: number,
): Promise<MoveResult[]> {
  const results: MoveResult[] = new Array(moves.length);
  const batches = group(moves, checksPerAtomic);
  await Promise.all(batches.map(async (batch) => {
    const first = await commitBatch(kv, layout, batch.map((i) => moves[i]));
    // A refused batch is retried move by move: a failed check or an error
    // then belongs to the move that caused it, not to its neighbours.
    if (typeof first === "string" || batch.length === 1) {
      for (const i of batch) results[i] = first;
      return;
    }
    await Promise.all(batch.map(async (i) => {
      results[i] = await commitBatch(kv, layout, [moves[i]]);
    }));
  }));
  return results;
}

/** Splits moves (by index) into batches within the atomic limits. */
function group(moves: Move[], checksPerAtomic: number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let mutations = 0;
  let weight = 0;
  for (let i = 0; i < moves.length; i++) {
    const m = moves[i];
    if (
      current.length > 0 &&
      (current.length >= checksPerAtomic ||
        mutations + m.mutations > MAX_MUTATIONS ||
        weight + m.weight > MAX_WEIGHT)
    ) {
      batches.push(current);
      current = [];
      mutations = 0;
      weight = 0;
    }
    current.push(i);
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
    for (const m of moves) {
      op.check(m.check);
      m.apply(op);
      wakes ||= m.wakes;
    }
    if (wakes) addWake(op, layout);
    const res = await op.commit();
    return res.ok ? res.versionstamp : null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
