/**
 * BullMQ 6 on Node against the loopback Redis the orchestrator started (memory
 * only or AOF everysec: that is the orchestrator's choice, not this file's).
 * Queue rows use BullMQ's Queue and a Worker at concurrency 100; the KV rows
 * use plain Redis GET/SET/MSET and SCAN+MGET on the same server.
 */
import { existsSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  NotAvailableError,
  type Payload,
  type SystemAdapter,
  type SystemInstance,
} from "../lib/types.ts";

/** Worker concurrency, as in the brief (kvq's default listener concurrency is 100 too). */
const CONCURRENCY = 100;

// BullMQ 6 brings no Redis client of its own (ioredis is an optional peer
// dependency), so both are loaded here and a missing one skips the row.
type Mod = Record<string, unknown>;
async function load(): Promise<
  { bullmq: Mod; IORedis: new (o: object) => Redis }
> {
  let bullmq: Mod;
  let ioredis: Mod;
  try {
    bullmq = await import("bullmq");
  } catch (e) {
    throw new NotAvailableError(
      `bullmq not installed: ${(e as Error).message}`,
    );
  }
  try {
    ioredis = await import("ioredis");
  } catch {
    throw new NotAvailableError(
      "ioredis not installed: run make deps (it is pinned in package.json)",
    );
  }
  const IORedis = (ioredis.default ?? ioredis.Redis) as new (
    o: object,
  ) => Redis;
  return { bullmq, IORedis };
}

/** The ioredis calls used here. */
interface Redis {
  flushall(): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<string | null>;
  mset(...args: string[]): Promise<unknown>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  scan(...args: (string | number)[]): Promise<[string, string[]]>;
  info(section: string): Promise<string>;
  quit(): Promise<unknown>;
}

/** The BullMQ classes used here, typed just enough. */
interface Queue {
  waitUntilReady(): Promise<unknown>;
  add(name: string, data: Payload, opts?: { delay: number }): Promise<unknown>;
  addBulk(jobs: { name: string; data: Payload }[]): Promise<unknown>;
  close(): Promise<void>;
}
interface Worker {
  close(force?: boolean): Promise<void>;
  on(event: "error", listener: (e: Error) => void): unknown;
}
type QueueCtor = new (name: string, opts: object) => Queue;
type WorkerCtor = new (
  name: string,
  processor: (job: { data: Payload }) => Promise<void>,
  opts: object,
) => Worker;

/** The system under test. */
export const system: SystemAdapter = {
  async open(dir, context): Promise<SystemInstance> {
    const { bullmq, IORedis } = await load();
    if (!context.redisPort) {
      throw new NotAvailableError("no Redis server was started");
    }
    // Let BullMQ build its own connections (normal and blocking) with ioredis.
    const RedisConnection = bullmq.RedisConnection as {
      clientFactory?: (o: object) => unknown;
    };
    const wrap = bullmq.createIORedisClient as (c: Redis) => unknown;
    RedisConnection.clientFactory = (o) => wrap(new IORedis(o));
    const connection = { host: "127.0.0.1", port: context.redisPort };
    const kv = new IORedis(connection);
    // One child per scenario and one scenario at a time: a clean server per
    // run, flushed by the run's first instance; the others (bench/peer.ts
    // processes of the same run) find its queue by the run's directory.
    const first = join(dir, "bullmq-opened");
    if (!existsSync(first)) {
      await kv.flushall();
      writeFileSync(first, "");
    }
    const name = `bench-${basename(dir)}`;
    const queue = new (bullmq.Queue as QueueCtor)(name, {
      connection,
      // Completed jobs are deleted, as Deno deletes a message once handled.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    await queue.waitUntilReady();
    let worker: Worker | undefined;
    return {
      async enqueue(message, delayMs) {
        await queue.add("m", message, delayMs ? { delay: delayMs } : undefined);
      },
      async enqueueMany(messages) {
        await queue.addBulk(messages.map((data) => ({ name: "m", data })));
      },
      listen(handler) {
        if (worker) throw new Error("listen() called twice");
        worker = new (bullmq.Worker as WorkerCtor)(name, (job) => {
          handler(job.data);
          return Promise.resolve();
        }, { connection, concurrency: CONCURRENCY });
        worker.on("error", (e) => console.error("bullmq worker:", e.message));
      },
      async set(i, value) {
        await kv.set(`kv:${i}`, JSON.stringify(value));
      },
      async get(i) {
        const raw = await kv.get(`kv:${i}`);
        return raw === null ? null : JSON.parse(raw) as Payload;
      },
      async setMany(values) {
        await kv.mset(
          ...values.flatMap((v) => [`kv:${v.i}`, JSON.stringify(v)]),
        );
      },
      async listAll(stop) {
        // SCAN + MGET: Redis's way to read every key under a prefix with values.
        let cursor = "0";
        let n = 0;
        do {
          const [next, keys] = await kv.scan(
            cursor,
            "MATCH",
            "kv:*",
            "COUNT",
            1000,
          );
          cursor = next;
          if (keys.length > 0) {
            for (const raw of await kv.mget(...keys)) {
              if (raw !== null && typeof JSON.parse(raw).i === "number") n++;
            }
          }
        } while (cursor !== "0" && !stop());
        return n;
      },
      async serverStats() {
        const info = await kv.info("memory");
        const rss = /used_memory_rss:(\d+)/.exec(info);
        const stats: Record<string, number> = {};
        if (rss) stats.server_rss = Number(rss[1]) / 1024 / 1024;
        return stats;
      },
      async close() {
        // force: do not wait for running handlers; ours return at once anyway.
        await worker?.close(true);
        await queue.close();
        await kv.quit();
      },
    };
  },
};
