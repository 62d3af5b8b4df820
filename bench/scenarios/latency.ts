/**
 * Scenario (4): with the consumer running, enqueue one message, wait until the
 * handler starts on it, then the next. Latency is enqueue call to handler start.
 */
import { payload } from "../lib/payload.ts";
import { percentile } from "../lib/stats.ts";
import { Deadline, now } from "../lib/time.ts";
import { Tracker } from "../lib/tracker.ts";
import { result, type Scenario } from "./common.ts";

/** Messages sent first and left out of the figures (cold paths, lazy setup). */
const WARMUP = 5;

/** Reports p50 and p99 of enqueue-to-handler-start over `params.count` messages. */
export const latency: Scenario = async (instance, params) => {
  const total = params.count + WARMUP;
  const tracker = new Tracker(total);
  instance.listen(tracker.onMessage);
  const deadline = new Deadline(params.boundS);
  const start = now();
  const samples: number[] = [];
  for (let k = 0; k < total && !deadline.passed(); k++) {
    const sent = now();
    await instance.enqueue(payload(k));
    if (!(await tracker.waitFor(k + 1, deadline.left()))) break;
    if (k >= WARMUP) samples.push(tracker.arrivals[k] - sent);
  }
  const seconds = (now() - start) / 1000;
  return result(params.count, samples.length, seconds, {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
  }, tracker.duplicates);
};
