/**
 * Scenario (6): key-value throughput on small values (the benchmark payload):
 * sequential and concurrent set and get, and listing every key of a set.
 */
import { payload } from "../lib/payload.ts";
import { Deadline, now } from "../lib/time.ts";
import type { ScenarioParams, SystemInstance } from "../lib/types.ts";
import { bulk, result, type Scenario } from "./common.ts";

/** Runs `op(i)` for i = 0.. one at a time, or `params.chunk` at a time. */
async function loop(
  params: ScenarioParams,
  concurrent: boolean,
  op: (i: number) => Promise<void>,
): Promise<{ done: number; seconds: number }> {
  const deadline = new Deadline(params.boundS);
  const start = now();
  let done = 0;
  const step = concurrent ? params.chunk : 1;
  while (done < params.count && !deadline.passed()) {
    const end = Math.min(params.count, done + step);
    if (end - done === 1) {
      await op(done);
    } else {
      const batch: Promise<void>[] = [];
      for (let i = done; i < end; i++) batch.push(op(i));
      await Promise.all(batch);
    }
    done = end;
  }
  return { done, seconds: (now() - start) / 1000 };
}

/** Reads key `i` and throws unless it holds message `i`: a wrong read must not count. */
async function getChecked(instance: SystemInstance, i: number): Promise<void> {
  const value = await instance.get(i);
  if (value?.i !== i || typeof value.body !== "string") {
    throw new Error(`get(${i}) returned ${JSON.stringify(value)}`);
  }
}

function setScenario(concurrent: boolean): Scenario {
  return async (instance, params) => {
    const { done, seconds } = await loop(
      params,
      concurrent,
      (i) => instance.set(i, payload(i)),
    );
    if (params.verify) {
      for (let i = 0; i < done; i++) await getChecked(instance, i);
    }
    return result(params.count, done, seconds, { rate: done / seconds });
  };
}

function getScenario(concurrent: boolean): Scenario {
  return async (instance, params) => {
    const written = await bulk(
      params.count,
      params.setupBoundS,
      (batch) => instance.setMany(batch),
    );
    const { done, seconds } = await loop(
      { ...params, count: written },
      concurrent,
      (i) => getChecked(instance, i),
    );
    return result(params.count, done, seconds, { rate: done / seconds });
  };
}

/** (6) set, one at a time. */
export const kvSetSeq: Scenario = setScenario(false);
/** (6) set, `chunk` at a time. */
export const kvSetConcurrent: Scenario = setScenario(true);
/** (6) get of existing keys, one at a time. */
export const kvGetSeq: Scenario = getScenario(false);
/** (6) get of existing keys, `chunk` at a time. */
export const kvGetConcurrent: Scenario = getScenario(true);

/** (6) Writes `count` keys (untimed), then times listing all of them. */
export const kvList: Scenario = async (instance, params) => {
  const written = await bulk(
    params.count,
    params.setupBoundS,
    (batch) => instance.setMany(batch),
  );
  const deadline = new Deadline(params.boundS);
  const start = now();
  const seen = await instance.listAll(() => deadline.passed());
  const seconds = (now() - start) / 1000;
  if (seen > written) {
    throw new Error(`listed ${seen} keys, ${written} written`);
  }
  return result(params.count, seen, seconds, {
    ms: seconds * 1000,
    rate: seen / seconds,
  });
};
