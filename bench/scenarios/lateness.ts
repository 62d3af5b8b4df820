/**
 * Scenario (5): with the consumer running, enqueue messages with a delay, then
 * measure how late each handler starts: start - (enqueue call + delay).
 */
import { payload } from "../lib/payload.ts";
import { percentile } from "../lib/stats.ts";
import { now } from "../lib/time.ts";
import { Tracker } from "../lib/tracker.ts";
import { result, type Scenario } from "./common.ts";

/** Reports p50 and max lateness over `params.count` messages delayed `params.delayMs`. */
export const lateness: Scenario = async (instance, params) => {
  const tracker = new Tracker(params.count);
  instance.listen(tracker.onMessage);
  const start = now();
  const due: number[] = [];
  for (let k = 0; k < params.count; k++) {
    // The due time counts from the call, as a user would: time spent inside
    // enqueue() is part of the lateness.
    due.push(now() + params.delayMs);
    await instance.enqueue(payload(k), params.delayMs);
  }
  await tracker.waitFor(params.count, params.boundS * 1000);
  const seconds = (now() - start) / 1000;
  const late: number[] = [];
  for (let k = 0; k < params.count; k++) {
    if (!Number.isNaN(tracker.arrivals[k])) {
      late.push(tracker.arrivals[k] - due[k]);
    }
  }
  return result(params.count, late.length, seconds, {
    p50: percentile(late, 50),
    max: late.length ? Math.max(...late) : NaN,
  }, tracker.duplicates);
};
