/**
 * The FFI transport: the operations of `Transport` over kvq's native
 * library on Deno. Thin, like the N-API one: it moves bytes, turns the
 * synchronous error replies into exceptions, and owns the native handles'
 * lifetimes and the library's.
 *
 * A call starts synchronously: the library decodes the request and hands
 * it to the engine without waiting. A snapshot read of a file database is
 * answered at once, as on Node; anything else (an open included: it runs
 * on a thread of the library's) is answered later through a thread-safe
 * completion callback, by call id. No thread of Deno's blocking pool ever
 * waits (it has only 32: idle listeners and watches parked there once
 * stalled the whole process).
 *
 * Once no store is open and no call is waiting, the callback is closed and
 * the library unloaded, so that `deno test`'s sanitizers find nothing left
 * behind by a test that closed its databases; the next open loads them
 * again. Every call names the callback its answer goes to, so no answer
 * can reach a closed one: a callback is closed only when none is due.
 *
 * Handles are freed when their JavaScript wrapper is garbage-collected
 * (as napi-rs frees a class instance): a waiting call holds its wrapper,
 * so a handle is never freed under a running call, and a call after
 * `close` still finds a valid (closed) store and gets the engine's closed
 * error.
 *
 * @module
 */

import type { Transport } from "../src/transport.ts";
import { unwrapError } from "../src/transport.ts";
import { library, unloadLibrary } from "./loader.ts";
import { type RawReply, take, takeBytes } from "./reply.ts";
import type { KvqSymbols } from "./symbols.ts";

/** A handle inside the library: an open store or a watch. */
class FfiHandle {
  /** The native object. */
  readonly ptr: Deno.PointerObject;
  /** Shared with the finalizer: whether the store was closed. */
  readonly life: Life;
  constructor(ptr: Deno.PointerObject, life: Life) {
    this.ptr = ptr;
    this.life = life;
  }
}

/** What the finalizer of a handle needs, without the handle itself. */
interface Life {
  ptr: Deno.PointerObject;
  store: boolean;
  closed: boolean;
}

/** Handles collected while the library was unloaded, freed at its reload. */
const unfreed: Life[] = [];

const finalizer = new FinalizationRegistry<Life>((life) => {
  // A store dropped without close() no longer keeps the library loaded.
  if (life.store && !life.closed) {
    life.closed = true;
    openStores--;
  }
  if (loaded === undefined) unfreed.push(life);
  else free(loaded, life);
  releaseIfIdle();
});

function free(lib: KvqSymbols, life: Life): void {
  if (life.store) lib.kvq_store_free(life.ptr);
  else lib.kvq_watch_free(life.ptr);
}

const utf8 = new TextEncoder();

// A zero-length view of a real allocation: passed instead of an empty
// request, whose data pointer may be null (a null slice is undefined
// behaviour in Rust). The engine then answers with its malformed error.
const EMPTY = new Uint8Array(8).subarray(0, 0);

/**
 * A buffer's length for a `usize` argument. Deno takes a number there at
 * run time (no BigInt to allocate per call); only its types insist on a
 * bigint.
 */
function size(bytes: Uint8Array): bigint {
  return bytes.byteLength as unknown as bigint;
}

function request(bytes: Uint8Array): Uint8Array {
  return bytes.byteLength === 0 ? EMPTY : bytes;
}

/** A string as UTF-8 bytes, passed like a request. */
function text(value: string): Uint8Array {
  return request(utf8.encode(value));
}

/** The completion callback's signature (task.rs `Complete`). */
const COMPLETE = { parameters: ["u32", "pointer"], result: "void" } as const;

/** A call the engine will answer later, by id. */
interface Waiting {
  /** Receives the reply's bytes, or (`withHandle`) bytes and handle. */
  resolve: (reply: Uint8Array) => void;
  resolveRaw?: (reply: RawReply) => void;
  /** Kept referenced until the answer, so its handle is not freed. */
  owner: FfiHandle | undefined;
}

const waiting = new Map<number, Waiting>();
let lastCall = 0;
/** Stores opened or opening and not closed: they keep the library loaded. */
let openStores = 0;
/** The loaded library and the live callback, while loaded. */
let loaded: KvqSymbols | undefined;
let completion: Deno.UnsafeCallback<typeof COMPLETE> | undefined;

/** The library's symbols, loading it (and freeing what waited) if needed. */
function lib(): KvqSymbols {
  if (loaded !== undefined) return loaded;
  const symbols = library();
  loaded = symbols;
  for (const life of unfreed.splice(0)) free(symbols, life);
  return symbols;
}

/**
 * The callback late answers go to, made on first use after a load. Deno
 * queues its invocations from the library's completion thread onto the
 * event loop; it keeps the process alive only while a call is waiting.
 */
function callback(symbols: KvqSymbols): Deno.PointerObject {
  if (completion === undefined) {
    completion = Deno.UnsafeCallback.threadSafe(COMPLETE, (call, reply) => {
      const w = waiting.get(call);
      waiting.delete(call);
      if (waiting.size === 0) {
        completion?.unref();
        // Not from inside this function: Deno reads the callback's
        // definition after it returns, and closing frees it. Microtasks
        // queued here run once it has returned, before the library's
        // thread is let go (which then touches neither).
        if (openStores === 0) queueMicrotask(releaseIfIdle);
      }
      if (w?.resolveRaw !== undefined) w.resolveRaw(take(symbols, reply));
      else w?.resolve(takeBytes(symbols, reply));
    });
    completion.unref();
  }
  return completion.pointer;
}

/**
 * Closes the callback and unloads the library once no store is open and
 * no call waits: nothing native can call back then, and the library's own
 * threads run on in its code, which is never unmapped (crates/kvq-deno
 * build.rs). Never called from inside the callback itself.
 */
function releaseIfIdle(): void {
  if (openStores !== 0 || waiting.size !== 0 || loaded === undefined) return;
  completion?.close();
  completion = undefined;
  loaded = undefined;
  // Windows would unmap the library under its threads: keep it there.
  if (Deno.build.os !== "windows") unloadLibrary();
}

/**
 * Makes a call that may be answered at once (the reply, e.g. a file read)
 * or later through the completion callback (a promise of it). Registering
 * after the call returns is safe because the library never calls the
 * callback on this thread: every late answer, even one given before the
 * call returns, goes through its completion thread (crates/kvq-deno
 * task.rs `deliver`), and Deno queues a call from another thread for a
 * later turn of the event loop. (Called on this thread, Deno would run the
 * callback at once, before the call is registered, and its answer would be
 * lost.)
 */
function call(
  owner: FfiHandle | undefined,
  invoke: (
    symbols: KvqSymbols,
    call: number,
    complete: Deno.PointerObject,
  ) => Deno.PointerValue,
): Uint8Array | Promise<Uint8Array> {
  const symbols = lib();
  const id = nextId();
  const bytes = takeBytes(symbols, invoke(symbols, id, callback(symbols)));
  if (bytes.length !== 0) {
    releaseIfIdle();
    return bytes;
  }
  return new Promise<Uint8Array>((resolve) => {
    if (waiting.size === 0) completion?.ref();
    waiting.set(id, { resolve, owner });
  });
}

/** {@link call} for the calls that make a handle (open, watch). */
function callRaw(
  owner: FfiHandle | undefined,
  invoke: (
    symbols: KvqSymbols,
    call: number,
    complete: Deno.PointerObject,
  ) => Deno.PointerValue,
): RawReply | Promise<RawReply> {
  const symbols = lib();
  const id = nextId();
  const reply = take(symbols, invoke(symbols, id, callback(symbols)));
  if (reply.bytes.length !== 0) return reply;
  return new Promise<RawReply>((resolveRaw) => {
    if (waiting.size === 0) completion?.ref();
    waiting.set(id, { resolve: () => {}, resolveRaw, owner });
  });
}

/**
 * The next call id. Ids wrap after 2^32 calls; one still held by a long
 * wait (a watch, an idle listener's dequeue) is skipped so its answer
 * cannot go astray.
 */
function nextId(): number {
  let id = lastCall;
  do id = id >= 0xffff_ffff ? 1 : id + 1; while (waiting.has(id));
  lastCall = id;
  return id;
}

/** A handle from a reply that must carry one; throws its error if not. */
function handleOf(reply: RawReply, store: boolean): FfiHandle {
  if (reply.bytes[0] !== 0 || reply.handle === null) unwrapError(reply.bytes);
  const life: Life = { ptr: reply.handle, store, closed: false };
  const handle = new FfiHandle(reply.handle, life);
  finalizer.register(handle, life);
  return handle;
}

/** kvq's transport for Deno, over the FFI library. */
export const ffiTransport: Transport = {
  name: "deno-ffi",
  async open(path: string, options: string): Promise<FfiHandle> {
    if (path !== ":memory:") requireFileAccess(path);
    const file = text(path);
    const json = text(options);
    // Counted from now: the answer's callback must not unload the library
    // before the store it brings is counted.
    openStores++;
    try {
      const reply = await callRaw(
        undefined,
        (symbols, id, complete) =>
          symbols.kvq_open(file, size(file), json, size(json), id, complete),
      );
      return handleOf(reply, true);
    } catch (error) {
      openStores--;
      releaseIfIdle();
      throw error;
    }
  },
  close(store) {
    const s = store as FfiHandle;
    lib().kvq_close(s.ptr);
    if (!s.life.closed) {
      s.life.closed = true;
      openStores--;
    }
    releaseIfIdle();
  },
  snapshotRead(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    // A file database answers at once; otherwise the worker answers later.
    return call(
      s,
      (l, id, cb) => l.kvq_snapshot_read(s.ptr, bytes, size(bytes), id, cb),
    );
  },
  atomicWrite(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(
        s,
        (l, id, cb) => l.kvq_atomic_write(s.ptr, bytes, size(bytes), id, cb),
      ),
    );
  },
  atomicWriteMany(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(
        s,
        (l, id, cb) =>
          l.kvq_atomic_write_many(s.ptr, bytes, size(bytes), id, cb),
      ),
    );
  },
  dequeue(store, max, listener) {
    const s = store as FfiHandle;
    return Promise.resolve(
      call(s, (l, id, cb) => l.kvq_dequeue(s.ptr, max, listener, id, cb)),
    );
  },
  dequeueNamed(store, max, listener, queue, leaseMs) {
    const s = store as FfiHandle;
    const name = request(queue);
    return Promise.resolve(
      call(s, (l, id, cb) =>
        l.kvq_dequeue_named(
          s.ptr,
          max,
          listener,
          name,
          size(name),
          leaseMs,
          id,
          cb,
        )),
    );
  },
  writeNamed(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(
        s,
        (l, id, cb) => l.kvq_write_named(s.ptr, bytes, size(bytes), id, cb),
      ),
    );
  },
  cancelDequeue(store, listener) {
    const s = store as FfiHandle;
    lib().kvq_cancel_dequeue(s.ptr, listener);
    releaseIfIdle();
  },
  finish(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(s, (l, id, cb) => l.kvq_finish(s.ptr, bytes, size(bytes), id, cb)),
    );
  },
  inspect(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(s, (l, id, cb) => l.kvq_inspect(s.ptr, bytes, size(bytes), id, cb)),
    );
  },
  watch(store, req): Promise<FfiHandle> {
    const s = store as FfiHandle;
    const keys = request(req);
    const reply = callRaw(
      s,
      (l, id, cb) => l.kvq_watch(s.ptr, keys, size(keys), id, cb),
    );
    // A refusal is thrown now, as Deno throws it from kv.watch(); a
    // backend that starts a watch later answers through the callback.
    if (reply instanceof Promise) {
      return reply.then((r) => handleOf(r, false));
    }
    try {
      return Promise.resolve(handleOf(reply, false));
    } finally {
      releaseIfIdle();
    }
  },
  watchNext(watcher) {
    const w = watcher as FfiHandle;
    return Promise.resolve(
      call(w, (l, id, cb) => l.kvq_watch_next(w.ptr, id, cb)),
    );
  },
  watchClose(watcher) {
    const w = watcher as FfiHandle;
    lib().kvq_watch_close(w.ptr);
    releaseIfIdle();
  },
};

/**
 * The native library opens files outside Deno's permission checks, so kvq
 * asks them itself, as `Deno.openKv` does: read, then write access to the
 * database file, with Deno's error class and message.
 */
function requireFileAccess(path: string): void {
  for (const name of ["read", "write"] as const) {
    const { state } = Deno.permissions.querySync({ name, path });
    if (state !== "granted") {
      throw new Deno.errors.NotCapable(
        `Requires ${name} access to "${path}", run again with the --allow-${name} flag`,
      );
    }
  }
}
