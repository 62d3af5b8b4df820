/**
 * Scenarios (9): a flood of un-awaited writes. One synchronous loop issues
 * `count` sets (or enqueues) without awaiting any, then awaits them all, as a
 * careless import script would. Meanwhile a second handle on the same
 * database (its own connection and engine, as another process has) writes
 * one key every 10 ms, each awaited: how long it waits is how long the flood
 * holds the write lock. Reports the flood's rate, the process's peak RSS,
 * and that second writer's p99 and longest wait.
 */
import { payload } from "../lib/payload.ts";
import { percentile } from "../lib/stats.ts";
import { now } from "../lib/time.ts";
import type { Payload, SystemInstance } from "../lib/types.ts";
import { peakRssMb, result, type Scenario } from "./common.ts";

/** How often the second writer writes. */
const PEER_EVERY_MS = 10;

/** Writes through `peer` every 10 ms until `stop()`; returns each wait (ms). */
async function peerWrites(
  peer: SystemInstance,
  stop: () => boolean,
): Promise<number[]> {
  const waits: number[] = [];
  for (let k = 0; !stop(); k++) {
    const t = now();
    await peer.set(-1, payload(k));
    waits.push(now() - t);
    await new Promise((r) => setTimeout(r, PEER_EVERY_MS));
  }
  return waits;
}

function flood(
  write: (instance: SystemInstance, message: Payload) => Promise<void>,
): Scenario {
  return async (instance, params) => {
    if (!instance.openPeer) throw new Error("the system has no openPeer");
    const peer = await instance.openPeer();
    let flooding = true;
    const waits = peerWrites(peer, () => !flooding);
    try {
      const start = now();
      const pending: Promise<void>[] = new Array(params.count);
      for (let i = 0; i < params.count; i++) {
        pending[i] = write(instance, payload(i));
      }
      const settled = await Promise.allSettled(pending);
      const seconds = (now() - start) / 1000;
      flooding = false;
      const samples = await waits;
      const done = settled.filter((s) => s.status === "fulfilled").length;
      return result(params.count, done, seconds, {
        rate: done / seconds,
        peak_rss: await peakRssMb(),
        peer_p99: percentile(samples, 99),
        peer_max: Math.max(...samples),
      });
    } finally {
      flooding = false;
      await peer.close();
    }
  };
}

/** (9) a million un-awaited sets. */
export const floodSet: Scenario = flood((i, m) => i.set(m.i, m));
/** (9) a million un-awaited enqueues. */
export const floodEnqueue: Scenario = flood((i, m) => i.enqueue(m));
