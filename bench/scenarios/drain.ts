/**
 * Scenarios (3), (7) and (8): a backlog is enqueued first (untimed, by the
 * system's bulk path), then the clock runs from starting the consumer until a
 * no-op handler has seen every message, or until the time bound. (3b) is the
 * same drain by several processes at once.
 */
import { startPeer } from "../lib/peer_process.ts";
import { Tracker } from "../lib/tracker.ts";
import { fromWall, now } from "../lib/time.ts";
import { bulk, peakRssMb, result, type Scenario } from "./common.ts";

/** Drains a backlog of `params.count` messages; reports msg/s and peak RSS. */
export const drain: Scenario = async (instance, params) => {
  const enqueued = await bulk(
    params.count,
    params.setupBoundS,
    (batch) => instance.enqueueMany(batch),
  );
  // Server memory is sampled with the whole backlog stored, its largest point.
  const server = instance.serverStats ? await instance.serverStats() : {};
  const tracker = new Tracker(enqueued);
  const start = now();
  instance.listen(tracker.onMessage);
  const all = await tracker.waitFor(enqueued, params.boundS * 1000);
  // On success the run ends at the last handler start, not when the waiter woke.
  const end = all ? lastArrival(tracker) : now();
  const seconds = (end - start) / 1000;
  const metrics: Record<string, number> = {
    rate: tracker.seen / seconds,
    peak_rss: await peakRssMb(),
    ...server,
  };
  if (enqueued < params.count) metrics.enqueued = enqueued;
  return result(
    params.count,
    tracker.seen,
    seconds,
    metrics,
    tracker.duplicates,
  );
};

/** The latest handler start recorded (NaN entries, never seen, compare false). */
function lastArrival(tracker: Tracker): number {
  let last = 0;
  for (const t of tracker.arrivals) if (t > last) last = t;
  return last;
}

/**
 * (3b) The same drain, by `processes` other processes sharing the store
 * (bench/peer.ts `consume`, each with the system's own consumer): this
 * process builds the backlog, starts them, waits until every one is open,
 * tells them all to go, and the clock runs from then until the last message
 * whose handler started (each process reports when, on the machine's one
 * clock). Duplicates are deliveries of a message another process (or the
 * same) had already started.
 */
export function drainBy(processes: number): Scenario {
  return async (instance, params, run) => {
    const enqueued = await bulk(
      params.count,
      params.setupBoundS,
      (batch) => instance.enqueueMany(batch),
    );
    const tracker = new Tracker(enqueued);
    const peers = await Promise.all(
      Array.from({ length: processes }, () => startPeer("consume", run)),
    );
    const reading = peers.map(async (peer) => {
      for (;;) {
        const report = JSON.parse(await peer.nextLine()) as {
          i: number[];
          t: number[];
        };
        report.i.forEach((i, n) =>
          tracker.onMessage({ i }, fromWall(report.t[n]))
        );
      }
    });
    // A peer's reports end when it exits: that is no failure here.
    for (const r of reading) r.catch(() => {});
    try {
      const start = now();
      for (const peer of peers) peer.child.stdin?.write("go\n");
      const all = await tracker.waitFor(enqueued, params.boundS * 1000);
      const end = all ? lastArrival(tracker) : now();
      const seconds = (end - start) / 1000;
      const metrics: Record<string, number> = {
        rate: tracker.seen / seconds,
      };
      if (enqueued < params.count) metrics.enqueued = enqueued;
      return result(
        params.count,
        tracker.seen,
        seconds,
        metrics,
        tracker.duplicates,
      );
    } finally {
      await Promise.all(peers.map((p) => p.stop()));
    }
  };
}
