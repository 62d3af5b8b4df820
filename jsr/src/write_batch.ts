/**
 * Folds the atomic writes a program makes in one tick into one native call.
 *
 * `Promise.all(items.map((i) => kv.set(...)))` issues its writes in one
 * synchronous run; sent one by one, each pays a boundary crossing and a
 * promise hand-off of its own. Collected until the next microtask and sent
 * as one request, they cross once and share one transaction and one fsync
 * for certain; each keeps its own outcome. A lone write goes as it is.
 *
 * @module
 */

import type { NativeStore, Transport } from "./transport.ts";
import { checkReply } from "./transport.ts";
import { readU32 } from "./buffer.ts";

/** Sends atomic write requests for one database, batched per tick. */
export class WriteBatcher {
  #transport: Transport;
  #store: NativeStore;
  #requests: Uint8Array[] = [];
  #resolves: ((reply: Uint8Array) => void)[] = [];
  #rejects: ((error: unknown) => void)[] = [];
  #scheduled = false;
  #flush = (): void => this.#send();

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
        queueMicrotask(this.#flush);
      }
    });
  }

  #send(): void {
    this.#scheduled = false;
    const requests = this.#requests;
    const resolves = this.#resolves;
    const rejects = this.#rejects;
    this.#requests = [];
    this.#resolves = [];
    this.#rejects = [];
    const n = requests.length;
    const fail = (error: unknown) => {
      for (const reject of rejects) reject(error);
    };
    try {
      if (n === 1) {
        this.#transport.atomicWrite(this.#store, requests[0]).then(
          resolves[0],
          rejects[0],
        );
        return;
      }
      this.#transport.atomicWriteMany(this.#store, joinRequests(requests))
        .then((reply) => {
          checkReply(reply);
          splitReplies(reply, resolves);
        })
        .catch(fail);
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
