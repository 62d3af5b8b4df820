/**
 * The adapter for anything shaped like Deno.Kv: Deno.openKv itself, @deno/kv,
 * and kvq on every runtime. A system of this kind is one `openKv` function.
 */
import { join } from "node:path";
import type {
  MessageHandler,
  NamedOptions,
  NamedQueues,
  Payload,
  SystemAdapter,
  SystemInstance,
} from "../lib/types.ts";

/** The part of the Deno.Kv surface the benchmark uses. */
export interface KvLike {
  get(key: unknown[]): Promise<{ value: unknown }>;
  set(key: unknown[], value: unknown): Promise<unknown>;
  list(selector: { prefix: unknown[] }): AsyncIterable<{ value: unknown }>;
  enqueue(value: unknown, options?: { delay?: number }): Promise<unknown>;
  listenQueue(handler: (value: unknown) => unknown): Promise<void>;
  atomic(): AtomicLike;
  /** kvq's named queues; other Deno.Kv implementations have none. */
  queue?(name: string): NamedQueueLike;
  watch?(
    keys: unknown[][],
  ): ReadableStream<{ value: unknown }[]>;
  close(): void;
}

/** The part of Deno.AtomicOperation the benchmark uses. */
export interface AtomicLike {
  set(key: unknown[], value: unknown): AtomicLike;
  enqueue(value: unknown): AtomicLike;
  commit(): Promise<{ ok: boolean }>;
}

/** The part of kvq's named queue handle the benchmark uses. */
export interface NamedQueueLike {
  enqueue(value: unknown, options?: NamedOptions): Promise<unknown>;
  listen(
    handler: (value: unknown) => unknown,
    options: { concurrency: number },
  ): Promise<void>;
}

/** Opens a database file, like `Deno.openKv(path)`. */
export type OpenKv = (path: string) => Promise<KvLike>;

/** Name of the database file inside the run's directory. */
const FILE = "bench.sqlite3";

/** Wraps an `openKv` function as a benchmark system (a new file per run). */
export function kvApiSystem(openKv: OpenKv): SystemAdapter {
  return {
    async open(dir) {
      const path = join(dir, FILE);
      return kvApiInstance(await openKv(path), () => openKv(path));
    },
  };
}

async function commit(op: AtomicLike): Promise<void> {
  const res = await op.commit();
  if (!res.ok) throw new Error("atomic commit failed its checks");
}

/**
 * Adapts one open Kv to the benchmark's SystemInstance; `reopen` opens
 * another handle on the same database (for `openPeer`).
 */
export function kvApiInstance(
  kv: KvLike,
  reopen?: () => Promise<KvLike>,
): SystemInstance {
  let listening: Promise<void> | undefined;
  const instance: SystemInstance = {
    async enqueue(message: Payload, delayMs?: number) {
      await kv.enqueue(message, delayMs ? { delay: delayMs } : undefined);
    },
    async enqueueMany(messages: Payload[]) {
      const op = kv.atomic();
      for (const m of messages) op.enqueue(m);
      await commit(op);
    },
    listen(handler: MessageHandler) {
      if (listening) throw new Error("listen() called twice");
      listening = kv.listenQueue((value) => handler(value as Payload));
      // After close() some implementations reject the pending listener; that
      // end is expected and must not surface as an unhandled rejection.
      listening.catch(() => {});
    },
    async set(i: number, value: Payload) {
      await kv.set(["kv", i], value);
    },
    async get(i: number) {
      return (await kv.get(["kv", i])).value as Payload | null;
    },
    async setMany(values: Payload[]) {
      const op = kv.atomic();
      for (const v of values) op.set(["kv", v.i], v);
      await commit(op);
    },
    async listAll(stop: () => boolean) {
      let n = 0;
      for await (const entry of kv.list({ prefix: ["kv"] })) {
        if (typeof (entry.value as Payload).i === "number") n++;
        if (stop()) break;
      }
      return n;
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
  // kvq's own stores only: other Deno.Kv handles may carry a `queue`
  // member of another kind.
  if (typeof kv.queue === "function") {
    const queue = kv.queue;
    instance.named = namedQueues((name) => queue.call(kv, name));
  }
  if (reopen) {
    instance.openPeer = async () => kvApiInstance(await reopen());
  }
  const watch = kv.watch?.bind(kv);
  if (watch) {
    instance.watchKey = (i, onChange) => {
      const reader = watch([["kv", i]]).getReader();
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          onChange((value[0]?.value ?? null) as Payload | null);
        }
      })().catch(() => {});
      return () => void reader.cancel().catch(() => {});
    };
  }
  return instance;
}

/** kvq's named queues of one store, one handle per name. */
function namedQueues(queue: (name: string) => NamedQueueLike): NamedQueues {
  const handles = new Map<string, NamedQueueLike>();
  const handle = (name: string) => {
    let q = handles.get(name);
    if (!q) handles.set(name, q = queue(name));
    return q;
  };
  return {
    async enqueueMany(name, messages, options) {
      const q = handle(name);
      await Promise.all(messages.map((m) => q.enqueue(m, options?.(m))));
    },
    async listen(name, handler, concurrency) {
      await handle(name).listen((value) => handler(value as Payload), {
        concurrency,
      });
    },
  };
}
