/**
 * `kv.watch()`: a pull-based ReadableStream over the engine's watcher. The
 * stream asks for the next state only when its queue has room, so changes
 * made while the reader is not reading coalesce into the latest state, as
 * in Deno. Cancelling releases the watcher; closing the database ends the
 * stream.
 *
 * @module
 */

import { copyKey, decodeKey, serdeError } from "./key.ts";
import type { KvState } from "./state.ts";
import { checkReply, type NativeWatcher, unwrapError } from "./transport.ts";
import type * as T from "./types.ts";
import { beginWatch, Reply, req, watchKey } from "./wire.ts";

/** The state of the watched keys: one entry per key, in request order. */
type Chunk = T.KvEntryMaybe<unknown>[];

/**
 * Starts watching `keys`. Throws synchronously, as Deno does: BadResource
 * after close, key errors, and the engine's limits ("Too many keys").
 */
export function watch(
  s: KvState,
  keys: unknown,
  raw: boolean,
): ReadableStream<Chunk> {
  if (!Array.isArray(keys)) throw serdeError("array", keys);
  const n = keys.length;
  beginWatch(raw, n);
  // Remember where each key's bytes sit so they can be decoded later for
  // present entries (Deno returns freshly decoded keys for those).
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) {
    offsets.push(req.pos + 4);
    watchKey(keys[i]);
  }
  const pending = req.pending;
  const request = req.take();
  s.ensureOpen();
  if (pending !== null) throw pending;
  if (n === 0) {
    return new ReadableStream<Chunk>({ start: (c) => c.close() });
  }
  const encoded: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const end = i + 1 < n ? offsets[i + 1] - 4 : request.length;
    encoded.push(request.subarray(offsets[i], end));
  }
  // Refusals throw here; the watcher itself may arrive later, and the
  // stream's first pull waits for it.
  const watcher = s.transport.watch(s.store, request);
  // highWaterMark 0: the next state is asked for only while a read is
  // waiting, so every change made meanwhile collapses into one chunk.
  return new ReadableStream<Chunk>(
    new WatchSource(s, watcher, keys, encoded),
    { highWaterMark: 0 },
  );
}

/** The underlying source of one watch stream. */
class WatchSource implements UnderlyingDefaultSource<Chunk> {
  #s: KvState;
  /** The watcher once it has arrived. */
  #watcher: NativeWatcher | undefined;
  #starting: Promise<NativeWatcher>;
  #keys: readonly unknown[];
  #encoded: Uint8Array[];
  #released = false;

  constructor(
    s: KvState,
    watcher: Promise<NativeWatcher>,
    keys: readonly unknown[],
    encoded: Uint8Array[],
  ) {
    this.#s = s;
    this.#starting = watcher;
    // A watcher that fails to start is reported by the first pull; until
    // then (or if the stream is never read) its rejection is not unhandled.
    watcher.catch(() => {});
    this.#keys = keys;
    this.#encoded = encoded;
  }

  /** Waits for the next state and enqueues it; ends with the database. */
  async pull(
    controller: ReadableStreamDefaultController<Chunk>,
  ): Promise<void> {
    let reply: Uint8Array;
    try {
      // Read-your-writes: the state read sees the writes issued before it.
      if (!this.#s.writes.idle) await this.#s.writes.written();
      this.#watcher ??= await this.#starting;
      reply = await this.#s.transport.watchNext(this.#watcher);
      if (reply[0] !== 0) unwrapError(reply);
    } catch (error) {
      this.#release();
      controller.error(error);
      return;
    }
    checkReply(reply);
    const r = new Reply(reply);
    if (r.u8() === 0) {
      this.#release();
      controller.close();
      return;
    }
    const n = r.u32();
    const chunk: Chunk = [];
    for (let i = 0; i < n; i++) {
      if (r.u8() === 0) {
        chunk.push({
          key: copyKey(this.#keys[i] as T.KvKey),
          value: null,
          versionstamp: null,
        });
      } else {
        const value = r.value();
        chunk.push({
          key: decodeKey(this.#encoded[i]),
          value,
          versionstamp: r.versionstamp(),
        });
      }
    }
    controller.enqueue(chunk);
  }

  /** Releases the watcher when the reader cancels. */
  cancel(): void {
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    const transport = this.#s.transport;
    if (this.#watcher !== undefined) transport.watchClose(this.#watcher);
    else this.#starting.then((w) => transport.watchClose(w), () => {});
  }
}
