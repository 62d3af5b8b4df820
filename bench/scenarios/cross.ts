/**
 * Scenario (11): delivery and watch across processes. A second process
 * (bench/peer.ts, same runtime, same database file) enqueues message k and
 * sets the watched key to k when told; this process's listener and watcher
 * record when each arrives. Latency runs from the moment this process tells
 * the peer (a line on its stdin) to the handler's start, and to the watch
 * event: the pipe and the peer's own work are included.
 */
import { startPeer } from "../lib/peer_process.ts";
import { percentile } from "../lib/stats.ts";
import { Deadline, now } from "../lib/time.ts";
import { Tracker } from "../lib/tracker.ts";
import type { Payload } from "../lib/types.ts";
import { result, type Scenario } from "./common.ts";

/** Messages sent first and left out of the figures. */
const WARMUP = 5;
/** Pause between messages, so each one meets an idle consumer. */
const GAP_MS = 20;

/** Reports p50/p99 of delivery and of watch, across two processes. */
export const crossLatency: Scenario = async (instance, params, run) => {
  if (!instance.watchKey) throw new Error("the system has no watch");
  const total = params.count + WARMUP;
  const tracker = new Tracker(total);
  const watched = new Float64Array(total).fill(NaN);
  instance.listen(tracker.onMessage);
  const stopWatch = instance.watchKey(0, (v: Payload | null) => {
    if (v && v.i < total && Number.isNaN(watched[v.i])) watched[v.i] = now();
  });
  const peer = await startPeer("relay", run);
  try {
    const deadline = new Deadline(params.boundS);
    const sent = new Float64Array(total).fill(NaN);
    const start = now();
    for (let k = 0; k < total && !deadline.passed(); k++) {
      sent[k] = now();
      peer.child.stdin?.write(`${k}\n`);
      if (!(await tracker.waitFor(k + 1, deadline.left()))) break;
      while (Number.isNaN(watched[k]) && !deadline.passed()) {
        await new Promise((r) => setTimeout(r, 1));
      }
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    const seconds = (now() - start) / 1000;
    const delivery: number[] = [];
    const watch: number[] = [];
    for (let k = WARMUP; k < total; k++) {
      if (!Number.isNaN(tracker.arrivals[k])) {
        delivery.push(tracker.arrivals[k] - sent[k]);
      }
      if (!Number.isNaN(watched[k])) watch.push(watched[k] - sent[k]);
    }
    return result(params.count, delivery.length, seconds, {
      delivery_p50: percentile(delivery, 50),
      delivery_p99: percentile(delivery, 99),
      watch_p50: percentile(watch, 50),
      watch_p99: percentile(watch, 99),
    }, tracker.duplicates);
  } finally {
    stopWatch();
    await peer.stop();
  }
};
