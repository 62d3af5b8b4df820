/** Scenarios (1) and (2): enqueue throughput, one at a time and 100 at a time. */
import { payload } from "../lib/payload.ts";
import { Deadline, now } from "../lib/time.ts";
import { result, type Scenario, verifyDelivered } from "./common.ts";

/** (1) Enqueues messages one after another, each awaited before the next. */
export const enqueueSeq: Scenario = async (instance, params) => {
  const deadline = new Deadline(params.boundS);
  const start = now();
  let done = 0;
  while (done < params.count && !deadline.passed()) {
    await instance.enqueue(payload(done));
    done++;
  }
  const seconds = (now() - start) / 1000;
  if (params.verify) await verifyDelivered(instance, done, params.boundS);
  return result(params.count, done, seconds, { rate: done / seconds });
};

/** (2) Enqueues in chunks of `params.chunk` issued together (Promise.all). */
export const enqueueConcurrent: Scenario = async (instance, params) => {
  const deadline = new Deadline(params.boundS);
  const start = now();
  let done = 0;
  while (done < params.count && !deadline.passed()) {
    const end = Math.min(params.count, done + params.chunk);
    const chunk: Promise<void>[] = [];
    for (let i = done; i < end; i++) chunk.push(instance.enqueue(payload(i)));
    await Promise.all(chunk);
    done = end;
  }
  const seconds = (now() - start) / 1000;
  if (params.verify) await verifyDelivered(instance, done, params.boundS);
  return result(params.count, done, seconds, { rate: done / seconds });
};
