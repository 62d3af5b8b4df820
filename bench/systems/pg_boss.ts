/**
 * pg-boss 12 on Node, on the private Postgres (`scripts/pg.sh`), a schema of
 * its own per run (pg_place.ts). Set up as fast as its documentation allows:
 * LISTEN/NOTIFY on (`useListenNotify`, a `notify` queue), the worker fetches
 * up to 100 jobs at a time (kvq's listeners and BullMQ's workers run 100),
 * fetches again at once while batches come back full, and otherwise polls
 * every 0.5 s, its minimum (delayed jobs are found by that poll). Jobs are sent one by one with `send`, the backlog
 * with `insert`.
 */
import {
  NotAvailableError,
  type Payload,
  type SystemAdapter,
  type SystemInstance,
} from "../lib/types.ts";
import {
  createSchema,
  dropSchema,
  PgKv,
  pgPool,
  pgUrl,
  schemaFor,
} from "./pg_place.ts";

/** The queue every run uses (in its own schema). */
const QUEUE = "bench";
/** Jobs fetched per round trip, as kvq's and BullMQ's concurrency. */
const BATCH = 100;

/** The pg-boss calls used here. */
interface Boss {
  on(event: "error" | "warning", listener: (e: unknown) => void): unknown;
  start(): Promise<unknown>;
  stop(options: object): Promise<void>;
  createQueue(name: string, options: object): Promise<void>;
  send(name: string, data: object, options?: object): Promise<unknown>;
  insert(name: string, jobs: { data: object }[]): Promise<unknown>;
  work(
    name: string,
    options: object,
    handler: (jobs: { data: Payload }[]) => Promise<void>,
  ): Promise<string>;
}
type BossCtor = new (options: object) => Boss;

async function load(): Promise<BossCtor> {
  try {
    const mod = await import("pg-boss");
    return (mod.PgBoss ?? mod.default) as BossCtor;
  } catch (e) {
    throw new NotAvailableError(
      `pg-boss not installed: ${(e as Error).message}`,
    );
  }
}

/** The system under test. */
export const system: SystemAdapter = {
  async open(dir): Promise<SystemInstance> {
    const PgBoss = await load();
    const schema = schemaFor("pgboss", dir);
    const pool = await pgPool(4);
    const owner = await createSchema(pool, schema);
    const kv = await PgKv.open(pool, schema);
    const boss = new PgBoss({
      connectionString: pgUrl(),
      schema,
      useListenNotify: true,
      schedule: false,
    });
    boss.on("error", (e) => console.error("pg-boss:", (e as Error).message));
    await boss.start();
    // Other processes of the run (bench/peer.ts) find it made.
    if (owner) await boss.createQueue(QUEUE, { notify: true });
    let working = false;
    return {
      async enqueue(message, delayMs) {
        const options = delayMs
          ? { startAfter: new Date(Date.now() + delayMs) }
          : undefined;
        await boss.send(QUEUE, message, options);
      },
      async enqueueMany(messages) {
        await boss.insert(QUEUE, messages.map((data) => ({ data })));
      },
      listen(handler) {
        if (working) throw new Error("listen() called twice");
        working = true;
        boss.work(QUEUE, {
          batchSize: BATCH,
          burstWhenBatchFull: true,
          pollingIntervalSeconds: 0.5,
          // NOTIFY says a job was created, not that a delayed one fell
          // due: without this, delayed jobs wait for the 30 s backstop.
          notifyPollingIntervalSeconds: 0.5,
        }, (jobs) => {
          for (const job of jobs) handler(job.data);
          return Promise.resolve();
        }).catch((e) => console.error("pg-boss work:", e.message));
      },
      set: (i, value) => kv.set(i, value),
      get: (i) => kv.get(i),
      setMany: (values) => kv.setMany(values),
      listAll: (stop) => kv.listAll(stop),
      async close() {
        await boss.stop({ graceful: false, close: true, timeout: 5_000 });
        if (owner) await dropSchema(pool, schema);
        await pool.end();
      },
    };
  },
};
