/**
 * Scenarios (9): a flood of un-awaited writes. One synchronous loop issues
 * `count` sets (or enqueues) without awaiting any, then awaits them all, as a
 * careless import script would. Meanwhile another process on the same
 * database (bench/peer.ts) writes one key every 10 ms, each awaited: how
 * long it waits is how long the flood keeps the write lock from it. Reports
 * the flood's rate, the process's peak RSS, and the other writer's p99 and
 * longest wait.
 */
import { payload } from "../lib/payload.ts";
import { startPeer } from "../lib/peer_process.ts";
import { percentile } from "../lib/stats.ts";
import { now } from "../lib/time.ts";
import type { Payload, SystemInstance } from "../lib/types.ts";
import { peakRssMb, result, type Scenario } from "./common.ts";

function flood(
  write: (instance: SystemInstance, message: Payload) => Promise<void>,
): Scenario {
  return async (instance, params, run) => {
    const peer = await startPeer("tick", run);
    try {
      const start = now();
      const pending: Promise<void>[] = new Array(params.count);
      for (let i = 0; i < params.count; i++) {
        pending[i] = write(instance, payload(i));
      }
      const settled = await Promise.allSettled(pending);
      const seconds = (now() - start) / 1000;
      peer.child.stdin?.write("quit\n");
      const { waits } = JSON.parse(await peer.nextLine()) as {
        waits: number[];
      };
      const done = settled.filter((s) => s.status === "fulfilled").length;
      return result(params.count, done, seconds, {
        rate: done / seconds,
        peak_rss: await peakRssMb(),
        peer_p99: percentile(waits, 99),
        peer_max: Math.max(...waits),
      });
    } finally {
      await peer.stop();
    }
  };
}

/** (9) a million un-awaited sets. */
export const floodSet: Scenario = flood((i, m) => i.set(m.i, m));
/** (9) a million un-awaited enqueues. */
export const floodEnqueue: Scenario = flood((i, m) => i.enqueue(m));
