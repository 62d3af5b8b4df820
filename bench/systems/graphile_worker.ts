/**
 * graphile-worker 0.18 on Node, on the private Postgres (`scripts/pg.sh`), a
 * schema of its own per run (pg_place.ts). Set up as its performance guide
 * suggests for throughput: jobs fetched 100 at a time into its local queue,
 * completions batched, 10 jobs at once per process (its concurrency holds a
 * pooled connection per running job, so 100 would need more connections than
 * the server allows for four processes). New jobs wake it by LISTEN/NOTIFY,
 * as it does by default. Jobs are added one by one with `addJob`, the backlog
 * with `addJobs`.
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

/** Jobs run at once per process. */
const CONCURRENCY = 10;
/** Jobs fetched (and locked) per round trip into the local queue. */
const LOCAL_QUEUE = 100;
/** The task every job runs. */
const TASK = "m";

/** The graphile-worker calls used here. */
interface Utils {
  migrate(): Promise<void>;
  addJob(task: string, payload: object, spec?: object): Promise<unknown>;
  addJobs(specs: { identifier: string; payload: object }[]): Promise<unknown>;
  release(): Promise<void>;
}
interface Runner {
  stop(): Promise<void>;
}
interface Graphile {
  makeWorkerUtils(options: object): Promise<Utils>;
  run(options: object): Promise<Runner>;
  Logger: new (factory: () => () => void) => unknown;
}

async function load(): Promise<Graphile> {
  try {
    return (await import("graphile-worker")) as unknown as Graphile;
  } catch (e) {
    throw new NotAvailableError(
      `graphile-worker not installed: ${(e as Error).message}`,
    );
  }
}

/** The system under test. */
export const system: SystemAdapter = {
  async open(dir): Promise<SystemInstance> {
    const gw = await load();
    const schema = schemaFor("graphile", dir);
    const pool = await pgPool(4);
    const owner = await createSchema(pool, schema);
    const kv = await PgKv.open(pool, schema);
    // Its info lines (one per worker start and stop) would drown stderr.
    const logger = new gw.Logger(() => () => {});
    const common = { connectionString: pgUrl(), schema, logger };
    const utils = await gw.makeWorkerUtils(common);
    await utils.migrate();
    let runner: Promise<Runner> | undefined;
    return {
      async enqueue(message, delayMs) {
        const spec = delayMs
          ? { runAt: new Date(Date.now() + delayMs) }
          : undefined;
        await utils.addJob(TASK, message, spec);
      },
      async enqueueMany(messages) {
        await utils.addJobs(
          messages.map((payload) => ({ identifier: TASK, payload })),
        );
      },
      listen(handler) {
        if (runner) throw new Error("listen() called twice");
        runner = gw.run({
          ...common,
          concurrency: CONCURRENCY,
          noHandleSignals: true,
          preset: {
            worker: {
              localQueue: { size: LOCAL_QUEUE },
              completeJobBatchDelay: 0,
              failJobBatchDelay: 0,
            },
          },
          taskList: {
            [TASK]: (payload: unknown) => {
              handler(payload as Payload);
              return Promise.resolve();
            },
          },
        });
        runner.catch((e) => console.error("graphile-worker:", e.message));
      },
      set: (i, value) => kv.set(i, value),
      get: (i) => kv.get(i),
      setMany: (values) => kv.setMany(values),
      listAll: (stop) => kv.listAll(stop),
      async close() {
        if (runner) await (await runner).stop();
        await utils.release();
        if (owner) await dropSchema(pool, schema);
        await pool.end();
      },
    };
  },
};
