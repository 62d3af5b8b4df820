/**
 * What a named queue does when a delivery ends (kvqueue's `Policy`): an
 * acknowledgement deletes the message and moves its group on; a failure
 * retries after an exponential, jittered wait until `maxAttempts`, and
 * then (or at once for a `noRetry` error) writes a dead-letter record with
 * the message, its metadata and the last error, and moves its group on.
 *
 * @module
 */

import type { Move } from "../kvqueue/commits.ts";
import type { ReadyRecord } from "../kvqueue/layout.ts";
import type { HandOn } from "../kvqueue/consumer.ts";
import type { Lease } from "../kvqueue/moves.ts";
import type { Policy } from "../kvqueue/policy.ts";
import type { KvStore, KvStoreAtomic } from "../kvqueue/types.ts";
import { errorText } from "./errors.ts";
import { groupAdvance } from "./groups.ts";
import { GatheredReads } from "./reads.ts";
import type { KvEntry } from "../types.ts";
import type { DeadRecord, GroupState, NamedLayout } from "./layout.ts";
import type { QueueConfig } from "./options.ts";

// Rough size of a record, for batching; exactness does not matter.
const RECORD_WEIGHT = 256;

/**
 * The most messages of one group handed on in a row (kvqueue/consumer.ts
 * HandOn): then the next one is made ready again, so that a group with a
 * steady stream does not keep a handler slot for ever while the heads of
 * other groups wait.
 */
export const MAX_HAND_ONS = 16;

/**
 * The wait before attempt `attempt + 1` after `attempt` failed ones:
 * `retryDelayMs * retryFactor^(attempt - 1)`, spread by `retryJitter`,
 * and never more than `maxRetryDelayMs` (the cap holds after the spread:
 * it is the longest wait between attempts). A step that overflows to
 * Infinity on a zero delay (0 * Infinity) is a zero wait, not NaN.
 */
export function retryDelay(config: QueueConfig, attempt: number): number {
  const base = Math.min(
    config.maxRetryDelayMs,
    config.retryDelayMs * config.retryFactor ** Math.max(0, attempt - 1),
  );
  const spread = 1 + config.retryJitter * (2 * Math.random() - 1);
  const wait = Math.round(base * spread) || 0;
  return Math.min(config.maxRetryDelayMs, Math.max(0, wait));
}

/**
 * The policy of named queue `layout` with `config`; `handOn` (read when a
 * message is acknowledged) is the consumer that a group's next message may
 * be handed on to.
 */
export function namedPolicy(
  kv: KvStore,
  layout: NamedLayout,
  config: QueueConfig,
  handOn?: () => HandOn | undefined,
): Policy {
  const isLast = (lease: Lease, error: unknown) =>
    lease.record.attempts + 1 >= config.maxAttempts || config.noRetry(error);
  const reads = new GatheredReads(kv);
  const leaving = (lease: Lease) => ({
    checks: [{ key: lease.key, versionstamp: lease.versionstamp }],
  });

  return {
    isLast,
    handsOn: (lease) =>
      lease.record.named?.group !== undefined &&
      (lease.chain ?? 0) < MAX_HAND_ONS,
    async ack(lease) {
      const taker = handOn?.();
      const slot = taker?.take(lease.id) === true;
      const now = Date.now();
      const leaseTo = slot
        ? { owner: taker!.owner, expiresMs: now + taker!.leaseMs }
        : undefined;
      // The group's state as the hand-on that led here wrote it: used
      // once (a retry after a failed check reads it again).
      const known = lease.carry as KvEntry<GroupState> | undefined;
      if (known !== undefined) lease.carry = undefined;
      let advance;
      try {
        advance = await groupAdvance(
          kv,
          layout,
          lease.record,
          now,
          reads,
          leaseTo,
          known,
        );
      } catch (error) {
        if (slot) taker!.give();
        throw error;
      }
      const next = advance.leased;
      let settled: Move["settled"];
      if (next !== undefined) {
        // Read while the commit is under way; delivered once it lands.
        const body = reads.get(layout.payload(next.id)).then((e) =>
          e.value instanceof Uint8Array ? e.value : null
        );
        body.catch(() => {});
        settled = (result) => {
          if (typeof result !== "string") return taker!.give();
          taker!.adopt({
            id: next.id,
            key: next.key,
            versionstamp: result,
            expiresMs: leaseTo!.expiresMs,
            record: next.record,
            chain: (lease.chain ?? 0) + 1,
            carry: {
              key: layout.group(lease.record.named!.group!),
              value: next.state,
              versionstamp: result,
            } satisfies KvEntry<GroupState>,
          }, body);
        };
      } else if (slot) {
        taker!.give();
      }
      return {
        settled,
        checks: [...leaving(lease).checks, ...advance.checks],
        apply(op: KvStoreAtomic) {
          op.delete(lease.key);
          op.delete(layout.payload(lease.id));
          advance.apply(op);
        },
        wakes: advance.wakes,
        mutations: 2 + advance.mutations,
        weight: advance.wakes ? RECORD_WEIGHT : 0,
        counter: layout.counter("acked"),
      };
    },
    async fail(lease, now, payload, error, withoutDeadLetters): Promise<Move> {
      const lastError = errorText(error);
      const attempts = lease.record.attempts + 1;
      const named = { ...lease.record.named!, lastError };
      if (!isLast(lease, error)) {
        const record: ReadyRecord = { ...lease.record, attempts, named };
        const key = layout.ready(now + retryDelay(config, attempts), lease.id);
        return {
          ...leaving(lease),
          apply(op: KvStoreAtomic) {
            op.delete(lease.key);
            op.set(key, record);
          },
          wakes: true,
          mutations: 2,
          weight: RECORD_WEIGHT,
          counter: layout.counter("retried"),
        };
      }
      if (payload === null && !withoutDeadLetters) {
        const [body] = await kv.getMany([layout.payload(lease.id)]);
        if (body.value instanceof Uint8Array) payload = body.value;
      }
      const advance = await groupAdvance(kv, layout, lease.record, now, reads);
      const dead: DeadRecord | null = payload === null ? null : {
        payload,
        record: { ...lease.record, attempts, named },
        lastError,
        attempts,
        failedAt: now,
      };
      return {
        checks: [...leaving(lease).checks, ...advance.checks],
        apply(op: KvStoreAtomic) {
          op.delete(lease.key);
          op.delete(layout.payload(lease.id));
          if (dead !== null) op.set(layout.dead(lease.id), dead);
          advance.apply(op);
        },
        wakes: advance.wakes,
        mutations: 3 + advance.mutations,
        weight: (payload?.length ?? 0) + 2 * RECORD_WEIGHT,
        counter: layout.counter("dead"),
      };
    },
  };
}
