/**
 * Scenario (11): delivery and watch across processes. A second process
 * (bench/peer.ts, same runtime, same store) enqueues message k, and for a
 * system with watch sets the watched key to k, when told on its stdin; this
 * process's listener and watcher record when each arrives. Latency runs
 * from the peer's enqueue (and set) call, as the peer's clock reports it
 * (`wallNow()`, one machine's clock for both processes), to the handler's
 * start and to the watch event: the pipe that tells the peer is not in it.
 */
import { startPeer } from "../lib/peer_process.ts";
import { percentile } from "../lib/stats.ts";
import { Deadline, fromWall, now } from "../lib/time.ts";
import { Tracker } from "../lib/tracker.ts";
import type { Payload } from "../lib/types.ts";
import { result, type Scenario } from "./common.ts";

/** Messages sent first and left out of the figures. */
const WARMUP = 5;
/** Pause between messages, so each one meets an idle consumer. */
const GAP_MS = 20;

/** Reports p50/p99 of delivery, and of watch where the system has it. */
export const crossLatency: Scenario = async (instance, params, run) => {
  const total = params.count + WARMUP;
  const tracker = new Tracker(total);
  const watched = new Float64Array(total).fill(NaN);
  instance.listen(tracker.onMessage);
  const stopWatch = instance.watchKey?.(0, (v: Payload | null) => {
    if (v && v.i < total && Number.isNaN(watched[v.i])) watched[v.i] = now();
  });
  const peer = await startPeer("relay", run);
  try {
    const deadline = new Deadline(params.boundS);
    const sent = new Float64Array(total).fill(NaN);
    const start = now();
    for (let k = 0; k < total && !deadline.passed(); k++) {
      peer.child.stdin?.write(stopWatch ? `${k} w\n` : `${k}\n`);
      const line = await peer.nextLine();
      const [word, , at] = line.split(" ");
      if (word !== "sent") throw new Error(`peer: ${line}`);
      sent[k] = fromWall(Number(at));
      if (!(await tracker.waitFor(k + 1, deadline.left()))) break;
      while (stopWatch && Number.isNaN(watched[k]) && !deadline.passed()) {
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
    const metrics: Record<string, number> = {
      delivery_p50: percentile(delivery, 50),
      delivery_p99: percentile(delivery, 99),
    };
    if (stopWatch) {
      metrics.watch_p50 = percentile(watch, 50);
      metrics.watch_p99 = percentile(watch, 99);
    }
    return result(
      params.count,
      delivery.length,
      seconds,
      metrics,
      tracker.duplicates,
    );
  } finally {
    stopWatch?.();
    await peer.stop();
  }
};
