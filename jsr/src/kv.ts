/**
 * `Kv`: the database handle. Each method checks its arguments the way Deno
 * does (same classes, messages and timing), encodes one request and hands
 * it to the transport.
 *
 * @module
 */

import {
  AtomicOperation,
  keyLength,
  sendWrite,
  versionstampedParts,
} from "./atomic.ts";
import {
  checkBackoffSchedule,
  checkConsistency,
  checkDelay,
  checkExpireIn,
  checkKeysIfUndelivered,
  checkListenOptions,
  readable,
} from "./check.ts";
import { badResource } from "./errors.ts";
import { type KvqPendingPage, readExpiries, readPending } from "./inspect.ts";
import { KvListIterator } from "./list.ts";
import { QueueListener } from "./queue.ts";
import { NamedQueue } from "./queues/queue.ts";
import type { QueueOptions } from "./queues/options.ts";
import { COMMIT_VERSIONSTAMP, KvState, setStateOf } from "./state.ts";
import { checkReply } from "./transport.ts";
import type * as T from "./types.ts";
import { serializePayload, valueBytes, valueEncoding } from "./value.ts";
import { watch } from "./watch.ts";
import {
  beginRead,
  beginWrite,
  M_DELETE,
  M_SET,
  M_SET_VERSIONSTAMPED,
  readKeyRange,
  Reply,
  req,
  writeCount,
  writeEnqueue,
  writeMutation,
} from "./wire.ts";

// Only openKv holds this, so `new Kv()` from user code fails as in Deno.
const CONSTRUCT = Symbol("kvq.Kv");

/** Wraps an open native store in a `Kv` (for openKv only). */
export function newKv(state: KvState): Kv {
  return new Kv(CONSTRUCT, state);
}

function invalidRange(key: unknown): void {
  // Deno reads a null or undefined get key as "no key": an invalid range.
  if (key === null || key === undefined) throw new TypeError("Invalid range");
}

/** A database handle, shaped like Deno.Kv. Made by `openKv()` only. */
export class Kv implements T.Kv {
  #s: KvState;

  /** Throws Deno's TypeError: use `openKv()` instead. */
  constructor(token?: unknown, state?: unknown) {
    if (token !== CONSTRUCT || !(state instanceof KvState)) {
      throw new TypeError(
        "Deno.Kv can not be constructed: use Deno.openKv instead",
      );
    }
    this.#s = state;
    setStateOf(this, state);
  }

  /** Reads one key; a missing key gives back the caller's key array. */
  async get<V = unknown>(
    key: T.KvKey,
    options?: { consistency?: T.KvConsistencyLevel },
  ): Promise<T.KvEntryMaybe<V>> {
    const s = this.#s;
    invalidRange(key);
    beginRead(1);
    readKeyRange(key);
    checkConsistency(options?.consistency);
    const r = await sendRead(s);
    r.u32();
    if (r.u32() === 0) return { key, value: null, versionstamp: null };
    return r.entry() as T.KvEntry<V>;
  }

  /** Reads up to 10 keys in one snapshot, results in input order. */
  async getMany<V extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof V]: T.KvKey }],
    options?: { consistency?: T.KvConsistencyLevel },
  ): Promise<{ [K in keyof V]: T.KvEntryMaybe<V[K]> }> {
    const s = this.#s;
    if (keys === null || keys === undefined) {
      throw new TypeError("Array.prototype.map called on null or undefined");
    }
    // Deno maps over `keys` with Array.prototype.map: array-likes pass.
    const list: unknown[] = Array.isArray(keys)
      ? keys
      : Array.prototype.slice.call(keys);
    const n = list.length;
    beginRead(n);
    for (let i = 0; i < n; i++) {
      invalidRange(list[i]);
      readKeyRange(list[i]);
    }
    checkConsistency(options?.consistency);
    const r = await sendRead(s);
    const ranges = r.u32();
    const out: T.KvEntryMaybe<unknown>[] = [];
    for (let i = 0; i < ranges; i++) {
      if (r.u32() === 0) {
        out.push({ key: list[i] as T.KvKey, value: null, versionstamp: null });
      } else {
        out.push(r.entry());
      }
    }
    return out as { [K in keyof V]: T.KvEntryMaybe<V[K]> };
  }

  /** Writes one key, optionally expiring after `expireIn` milliseconds. */
  async set(
    key: T.KvKey,
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<T.KvCommitResult> {
    const expireIn = options?.expireIn;
    checkExpireIn(expireIn);
    const encoding = valueEncoding(value);
    const bytes = valueBytes(encoding, value);
    const parts = versionstampedParts(key);
    beginWrite(0);
    writeCount(1);
    writeMutation(
      parts < 0 ? M_SET : M_SET_VERSIONSTAMPED,
      key,
      parts < 0 ? undefined : parts,
      encoding,
      bytes,
      expireIn ?? -1,
    );
    writeCount(0);
    const pending = req.pending;
    const versionstamp = await sendWrite(this.#s, req.take(), pending);
    if (versionstamp === null) throw new TypeError("Failed to set value");
    return { ok: true, versionstamp };
  }

  /** Deletes one key; resolves even when it was absent. */
  async delete(key: T.KvKey): Promise<void> {
    keyLength(key);
    beginWrite(0);
    writeCount(1);
    writeMutation(M_DELETE, key, undefined, 0, null, -1);
    writeCount(0);
    const pending = req.pending;
    const versionstamp = await sendWrite(this.#s, req.take(), pending);
    if (versionstamp === null) throw new TypeError("Failed to set value");
  }

  /**
   * Iterates a selector. Selector and option errors throw here; key,
   * consistency and cursor errors reject the first `next()`.
   */
  list<V = unknown>(
    selector: T.KvListSelector,
    options: T.KvListOptions = {},
  ): KvListIterator<V> {
    return new KvListIterator<V>(this.#s, selector, options);
  }

  /** Enqueues a message; resolves once it is committed. */
  async enqueue(
    value: unknown,
    options?: T.KvEnqueueOptions,
  ): Promise<T.KvCommitResult> {
    if (options?.delay !== undefined) checkDelay(options.delay);
    if (options?.backoffSchedule !== undefined) {
      checkBackoffSchedule(options.backoffSchedule);
    }
    const payload = serializePayload(value);
    checkKeysIfUndelivered(options?.keysIfUndelivered);
    beginWrite(0);
    writeCount(0);
    writeCount(1);
    writeEnqueue(
      payload,
      options?.delay ?? 0,
      options?.keysIfUndelivered ?? [],
      options?.backoffSchedule ?? null,
    );
    const pending = req.pending;
    const versionstamp = await sendWrite(this.#s, req.take(), pending);
    if (versionstamp === null) throw new TypeError("Failed to enqueue value");
    return { ok: true, versionstamp };
  }

  /**
   * Delivers messages to `handler` until the database closes or
   * `options.signal` aborts; rejects with "Queue already closed" after
   * close(). kvq: at most `options.concurrency` handlers at once (100).
   */
  async listenQueue(
    handler: T.QueueHandler,
    options?: T.ListenQueueOptions,
  ): Promise<void> {
    const s = this.#s;
    if (s.closeCalled) throw new Error("Queue already closed");
    const concurrency = checkListenOptions(options);
    // After Symbol.dispose (not close()) Deno resolves at once.
    if (s.closed) return;
    const signal = options?.signal;
    if (signal?.aborted) return;
    await new QueueListener(s, handler, concurrency, signal).run();
  }

  /** Starts an atomic operation. */
  atomic(): AtomicOperation {
    return new AtomicOperation(this.#s);
  }

  /**
   * kvq: a handle on the named queue `name` of this database, with its own
   * listeners, ordering groups, deduplication, metadata, retry policy and
   * management (jsr/src/queues; docs/api.md, "Named queues"). The same as
   * `queue(kv, name, options)`. Deno's `enqueue`/`listenQueue` are a
   * separate queue. Throws TypeError for a bad name or option.
   */
  queue<V = unknown>(name: string, options?: QueueOptions): NamedQueue<V> {
    return new NamedQueue<V>(this, name, options);
  }

  /**
   * Watches up to 10 keys: the current state first, then one chunk per
   * change. Throws synchronously on bad keys and after close.
   */
  watch<V extends readonly unknown[]>(
    keys: readonly [...{ [K in keyof V]: T.KvKey }],
    options: { raw?: boolean } = {},
  ): ReadableStream<{ [K in keyof V]: T.KvEntryMaybe<V[K]> }> {
    readable(options, "raw");
    const raw = options.raw ?? false;
    return watch(this.#s, keys, !!raw) as unknown as ReadableStream<
      { [K in keyof V]: T.KvEntryMaybe<V[K]> }
    >;
  }

  /**
   * kvq's own (not in `Deno.Kv`), for moving data (`kvq copy`): each
   * key's expiry in epoch milliseconds, `null` for a key without one (or
   * absent); at most 1000 keys. Resolves `undefined` when the store
   * cannot tell: a KV Connect store's reads carry no expiry.
   */
  kvqExpiries(
    keys: readonly T.KvKey[],
  ): Promise<(number | null)[] | undefined> {
    return readExpiries(this.#s, keys);
  }

  /**
   * kvq's own (not in `Deno.Kv`), for moving data (`kvq copy`): a page of
   * up to `limit` (default 500, at most 1000) messages of the store's own
   * queue (Deno's `enqueue`) not yet handled, ready, delayed or leased;
   * pass the page's `cursor` for the next. Resolves `undefined` when the
   * store has no queue of its own (KV Connect: its queue is ordinary keys).
   */
  kvqPendingMessages(
    options: { cursor?: string | null; limit?: number } = {},
  ): Promise<KvqPendingPage | undefined> {
    return readPending(this.#s, options.cursor ?? null, options.limit ?? 500);
  }

  /** The symbol standing for the commit's versionstamp in a set key. */
  commitVersionstamp(): symbol {
    return COMMIT_VERSIONSTAMP;
  }

  /** Closes the database; throws BadResource if it is already closed. */
  close(): void {
    const s = this.#s;
    if (s.closed) throw badResource();
    s.closeCalled = true;
    s.close();
  }

  /** Closes the database if it is open; never throws. */
  [Symbol.dispose](): void {
    const s = this.#s;
    if (!s.closed) s.close();
  }
}

/**
 * Sends the read request just encoded in `req`, once the database is known
 * to be open, raising the encoder's deferred error as Deno does (after the
 * closed check); returns a cursor over the reply.
 */
async function sendRead(s: KvState): Promise<Reply> {
  const pending = req.pending;
  const request = req.take();
  s.ensureOpen();
  if (pending !== null) throw pending;
  return new Reply(
    checkReply(await s.snapshotRead(request)),
  );
}
