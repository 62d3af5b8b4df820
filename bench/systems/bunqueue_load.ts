/**
 * What the two bunqueue rows share: loading its client (Bun only), and a
 * queue plus a worker over a connection: embedded (its SQLite file, in this
 * process) or TCP (a broker, for its PostgreSQL mode). The KV rows are the
 * caller's: bunqueue has no KV of its own.
 */
import {
  NotAvailableError,
  type Payload,
  type SystemInstance,
} from "../lib/types.ts";

/** Worker concurrency, as kvq's listeners and BullMQ's workers. */
const CONCURRENCY = 100;
/** The queue every run uses. */
const QUEUE = "bench";

/** Where a queue lives: its embedded SQLite file, or a broker. */
export type BunqueueConnection =
  | { embedded: true; dataPath: string }
  | { connection: { host: string; port: number } };

interface Queue {
  add(name: string, data: Payload, options?: object): Promise<unknown>;
  addBulk(jobs: { name: string; data: Payload }[]): Promise<unknown>;
  close(): Promise<void>;
}
interface Worker {
  close(force?: boolean): Promise<void>;
  on(event: "error", listener: (e: Error) => void): unknown;
}
/** The client module's parts used here. */
export interface BunqueueClient {
  Queue: new (name: string, options: object) => Queue;
  Worker: new (
    name: string,
    processor: (job: { data: Payload }) => Promise<void>,
    options: object,
  ) => Worker;
  shutdownManager(): void;
}

/** Loads `bunqueue/client`, which runs on Bun only. */
export async function loadBunqueue(): Promise<BunqueueClient> {
  if (!(globalThis as { Bun?: unknown }).Bun) {
    throw new NotAvailableError("bunqueue runs on Bun only");
  }
  try {
    return (await import("bunqueue/client")) as unknown as BunqueueClient;
  } catch (e) {
    throw new NotAvailableError(
      `bunqueue not installed: ${(e as Error).message}`,
    );
  }
}

/** The KV half of an instance, from the adapter. */
export type KvHalf = Pick<
  SystemInstance,
  "set" | "get" | "setMany" | "listAll"
>;

/**
 * A bench instance on a bunqueue queue at `where`; `kv` gives its KV rows,
 * `onClose` runs last (stopping a broker, dropping a database).
 */
export function bunqueueInstance(
  client: BunqueueClient,
  where: BunqueueConnection,
  kv: KvHalf,
  onClose: () => Promise<void>,
): SystemInstance {
  // Handled jobs go, as kvq deletes a handled message.
  const jobOptions = { removeOnComplete: true, removeOnFail: true };
  const queue = new client.Queue(QUEUE, {
    ...where,
    defaultJobOptions: jobOptions,
  });
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
      worker = new client.Worker(QUEUE, (job) => {
        handler(job.data);
        return Promise.resolve();
      }, { ...where, concurrency: CONCURRENCY, ...jobOptions });
      worker.on("error", (e) => console.error("bunqueue worker:", e.message));
    },
    ...kv,
    async close() {
      await worker?.close(true);
      await queue.close();
      if ("embedded" in where) client.shutdownManager();
      await onClose();
    },
  };
}
