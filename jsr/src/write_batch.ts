/**
 * Folds the atomic writes a program makes in one tick into one native call.
 *
 * `Promise.all(items.map((i) => kv.set(...)))` issues its writes in one
 * synchronous run; sent one by one, each pays a boundary crossing and a
 * promise hand-off of its own. Collected until the next microtask and sent
 * as one request, they cross once and share one transaction and one fsync
 * for certain; each keeps its own outcome. A lone write goes as it is.
 *
 * It also keeps reads behind the writes issued before them, as Deno does
 * (a read after an un-awaited `set` sees the set): a file database answers
 * reads on the calling thread at once, and an in-memory one would get the
 * read before a batch still waiting for its microtask. So a read first
 * asks {@link WriteBatcher.idle}; when writes are pending it waits for
 * {@link WriteBatcher.written}, which settles once every write submitted so
 * far has its reply (committed or failed). With nothing pending, reads pay
 * one property check.
 *
 * @module
 */

import type { NativeStore, Transport } from "./transport.ts";
import { checkReply } from "./transport.ts";
import { readU32 } from "./buffer.ts";

/**
 * The most writes in one native call: the engine commits at most this many
 * per transaction anyway (engine/worker.rs MAX_TURN_WRITES).
 */
const CALL_WRITES = 1024;
/**
 * The most native calls in flight at once. A flood of un-awaited writes
 * (a loop of a million `set`s) waits here, as small encoded requests, and
 * reaches the engine a few thousand at a time: its memory stays bounded
 * and other callers' requests are not queued behind the whole flood.
 */
const CALLS_IN_FLIGHT = 4;

/** One native call's worth of writes, and the batch they belong to. */
interface Chunk {
  requests: Uint8Array[];
  resolves: ((reply: Uint8Array) => void)[];
  rejects: ((error: unknown) => void)[];
  batch: Batch;
}

/** The writes of one tick; answered once every chunk of it is. */
interface Batch {
  id: number;
  chunksLeft: number;
}

/** Sends atomic write requests for one database, batched per tick. */
export class WriteBatcher {
  #transport: Transport;
  #store: NativeStore;
  #requests: Uint8Array[] = [];
  #resolves: ((reply: Uint8Array) => void)[] = [];
  #rejects: ((error: unknown) => void)[] = [];
  #scheduled = false;
  #flush = (): void => this.#send();
  // Chunks waiting for a free call, in submission order.
  #queued: Chunk[] = [];
  #inFlight = 0;
  // Batches by number: the last one begun, and those not yet answered, in
  // order (usually answered in that order, so settling pops the front).
  #batches = 0;
  #open: number[] = [];
  // Reads waiting for every batch up to `upTo` to be answered, in order.
  #waiters: { upTo: number; resolve: () => void }[] = [];

  /** A batcher for one open store. */
  constructor(transport: Transport, store: NativeStore) {
    this.#transport = transport;
    this.#store = store;
  }

  /** Queues an encoded atomic write; resolves to its own wire reply. */
  submit(request: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.#requests.push(request);
      this.#resolves.push(resolve);
      this.#rejects.push(reject);
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#open.push(++this.#batches);
        queueMicrotask(this.#flush);
      }
    });
  }

  /** True when no write is waiting to be sent or for its reply. */
  get idle(): boolean {
    return this.#open.length === 0;
  }

  /**
   * Settles once every write submitted so far has its reply; never
   * rejects (a read then runs and sees whatever was committed).
   */
  written(): Promise<void> {
    if (this.#open.length === 0) return Promise.resolve();
    const upTo = this.#batches;
    return new Promise((resolve) => this.#waiters.push({ upTo, resolve }));
  }

  #answered(batch: number): void {
    const open = this.#open;
    const i = open.indexOf(batch);
    if (i === 0) open.shift();
    else if (i > 0) open.splice(i, 1);
    const first = open.length === 0 ? Infinity : open[0];
    const waiters = this.#waiters;
    let n = 0;
    while (n < waiters.length && waiters[n].upTo < first) n++;
    if (n === 0) return;
    for (const w of waiters.splice(0, n)) w.resolve();
  }

  /** Cuts this tick's writes into chunks and sends what the window allows. */
  #send(): void {
    this.#scheduled = false;
    // Already sent by sendAll() before this tick's flush ran.
    if (this.#requests.length === 0) return;
    const requests = this.#requests;
    const resolves = this.#resolves;
    const rejects = this.#rejects;
    this.#requests = [];
    this.#resolves = [];
    this.#rejects = [];
    const n = requests.length;
    const batch: Batch = {
      id: this.#batches,
      chunksLeft: Math.ceil(n / CALL_WRITES),
    };
    if (n <= CALL_WRITES) {
      this.#queued.push({ requests, resolves, rejects, batch });
    } else {
      for (let i = 0; i < n; i += CALL_WRITES) {
        this.#queued.push({
          requests: requests.slice(i, i + CALL_WRITES),
          resolves: resolves.slice(i, i + CALL_WRITES),
          rejects: rejects.slice(i, i + CALL_WRITES),
          batch,
        });
      }
    }
    this.#pump();
  }

  /**
   * Sends every write submitted so far at once, past the window: the
   * database is closing, and what reaches the engine before its close is
   * still applied (an un-awaited write, a queue's last outcomes).
   */
  sendAll(): void {
    if (this.#scheduled) this.#send();
    this.#pump(Infinity);
  }

  #pump(window = CALLS_IN_FLIGHT): void {
    while (this.#inFlight < window && this.#queued.length > 0) {
      const chunk = this.#queued.shift() as Chunk;
      this.#inFlight++;
      this.#call(chunk);
    }
  }

  /** One native call; its chunk is done once every write has its reply. */
  #call(chunk: Chunk): void {
    const { requests, resolves, rejects, batch } = chunk;
    // The batch is marked answered before the writers' own continuations
    // run, so a read a writer makes once its write resolved takes the
    // fast path.
    const done = () => {
      this.#inFlight--;
      if (--batch.chunksLeft === 0) this.#answered(batch.id);
      this.#pump();
    };
    const fail = (error: unknown) => {
      done();
      for (const reject of rejects) reject(error);
    };
    try {
      if (requests.length === 1) {
        this.#transport.atomicWrite(this.#store, requests[0]).then(
          (reply) => {
            done();
            resolves[0](reply);
          },
          fail,
        );
        return;
      }
      this.#transport.atomicWriteMany(this.#store, joinRequests(requests))
        .then((reply) => {
          done();
          checkReply(reply);
          splitReplies(reply, resolves);
        }, fail)
        .catch((error) => {
          for (const reject of rejects) reject(error);
        });
    } catch (error) {
      fail(error);
    }
  }
}

/** u32 n, then per request a u32 length and its bytes (docs/wire.md). */
function joinRequests(requests: Uint8Array[]): Uint8Array {
  let size = 4;
  for (const r of requests) size += 4 + r.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, requests.length, true);
  let p = 4;
  for (const r of requests) {
    view.setUint32(p, r.length, true);
    out.set(r, p + 4);
    p += 4 + r.length;
  }
  return out;
}

/** Hands each write its own reply from a many-writes reply. */
function splitReplies(
  reply: Uint8Array,
  resolves: ((reply: Uint8Array) => void)[],
): void {
  const n = readU32(reply, 1);
  let p = 5;
  for (let i = 0; i < n; i++) {
    const length = readU32(reply, p);
    resolves[i](reply.subarray(p + 4, p + 4 + length));
    p += 4 + length;
  }
}
