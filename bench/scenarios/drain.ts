/**
 * Scenarios (3), (7) and (8): a backlog is enqueued first (untimed, by the
 * system's bulk path), then the clock runs from starting the consumer until a
 * no-op handler has seen every message, or until the time bound.
 */
import { Tracker } from "../lib/tracker.ts";
import { now } from "../lib/time.ts";
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
