/**
 * Reclaiming the messages of dead holders: a lease whose expiry has passed
 * belongs to a process that stopped renewing it (it crashed, was killed,
 * or lost its store). Any live listener moves such a message on, as a
 * failed attempt, as Deno counts a crash: due again after the next backoff
 * interval, or dead-lettered when none is left.
 *
 * @module
 */

import { type ChecksLimit, commitMoves, isBusy, isRefusal } from "./commits.ts";
import { type Layout, leaseRecord } from "./layout.ts";
import type { LeaseTable } from "./leases.ts";
import type { Lease } from "./moves.ts";
import type { Policy } from "./policy.ts";

/** The error a reclaimed attempt failed with (its holder stopped). */
export const LEASE_EXPIRED = "the lease expired: its holder stopped";
import type { KvStore } from "./types.ts";

// Expired leases handled per scan.
const SCAN_LIMIT = 100;

/**
 * Moves on every lease that expired before now, except those `own` holds
 * (its renewals are late, not dead). Resolves with how many messages it
 * moved. Errors of single moves are logged; a failing read rejects.
 */
export async function reclaimExpired(
  kv: KvStore,
  layout: Layout,
  own: LeaseTable,
  checks: ChecksLimit,
  policy: Policy,
): Promise<number> {
  const isLast = (l: Lease) => policy.isLast(l, LEASE_EXPIRED);
  let moved = 0;
  for (;;) {
    const now = Date.now();
    const expired: Lease[] = [];
    let listed = 0;
    let scanned = 0;
    const it = kv.list({
      prefix: layout.leasePrefix,
      end: [...layout.leasePrefix, now],
    }, { limit: SCAN_LIMIT, batchSize: SCAN_LIMIT });
    for await (const entry of it) {
      listed++;
      const parsed = layout.parse(entry.key);
      const record = leaseRecord(entry.value);
      if (parsed === null || record === null || own.has(parsed.id)) continue;
      expired.push({
        id: parsed.id,
        key: entry.key,
        versionstamp: entry.versionstamp,
        expiresMs: parsed.ms,
        record,
      });
    }
    if (expired.length > 0) {
      // Bodies are needed only to dead-letter.
      const last = expired.filter(isLast);
      const bodies = new Map<string, Uint8Array | null>();
      for (let i = 0; i < last.length; i += 10) {
        const chunk = last.slice(i, i + 10);
        const read = await kv.getMany(chunk.map((l) => layout.payload(l.id)));
        chunk.forEach((l, j) => {
          const v = read[j].value;
          bodies.set(l.id, v instanceof Uint8Array ? v : null);
        });
      }
      const moves = await Promise.all(
        expired.map((l) =>
          policy.fail(l, now, bodies.get(l.id) ?? null, LEASE_EXPIRED, false)
        ),
      );
      const results = await commitMoves(kv, layout, moves, checks);
      // A store that refuses a dead-letter key (Deno checks neither their
      // size nor their number at enqueue time) would refuse it forever:
      // such a message is dropped, said so, rather than retried.
      const refused = expired.filter((l, i) => {
        const result = results[i];
        return result instanceof Error && isRefusal(result) && isLast(l);
      });
      const dropped = refused.length === 0 ? [] : await commitMoves(
        kv,
        layout,
        await Promise.all(
          refused.map((l) => policy.fail(l, now, null, LEASE_EXPIRED, true)),
        ),
        checks,
      );
      let failed = 0;
      let firstError: Error | null = null;
      for (let i = 0; i < results.length; i++) {
        const result = results[i];
        const j = refused.indexOf(expired[i]);
        if (typeof result === "string" || typeof dropped[j] === "string") {
          scanned++;
          if (j >= 0) {
            console.error(
              `kvq queue: message ${
                expired[i].id
              } could not be written to its keysIfUndelivered and is dropped:`,
              result,
            );
          }
        } else if (result instanceof Error && !isBusy(result)) {
          failed++;
          firstError ??= result;
        }
      }
      if (firstError !== null) {
        console.error(
          `kvq queue: failed to reclaim ${failed} message(s), retrying:`,
          firstError,
        );
      }
    }
    moved += scanned;
    if (listed < SCAN_LIMIT || scanned === 0) return moved;
  }
}
