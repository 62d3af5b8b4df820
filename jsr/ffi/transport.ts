/**
 * The FFI transport: the eight operations of `Transport` over kvq's native
 * library on Deno. Thin, like the N-API one: it moves bytes, turns the two
 * synchronous error replies into exceptions, and owns the native handles'
 * lifetimes.
 *
 * A call starts synchronously: the library decodes the request and hands
 * it to the engine's worker without waiting. A snapshot read of a file
 * database is answered at once, as on Node; anything else is answered
 * later through one thread-safe completion callback, by call id. No thread
 * of Deno's blocking pool ever waits (it has only 32: idle listeners and
 * watches parked there once stalled the whole process).
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
import { library } from "./loader.ts";
import { take, takeBytes } from "./reply.ts";
import type { KvqSymbols } from "./symbols.ts";

/**
 * A handle inside the library (an open store or a watch) and the library
 * it came from. The two kinds differ only in the symbol that frees them.
 */
class FfiHandle {
  /** The native object. */
  readonly ptr: Deno.PointerObject;
  /** The library's symbols. */
  readonly lib: KvqSymbols;
  constructor(ptr: Deno.PointerObject, lib: KvqSymbols) {
    this.ptr = ptr;
    this.lib = lib;
  }
}

const storeFinalizer = new FinalizationRegistry<FfiHandle["ptr"]>((ptr) => {
  library().kvq_store_free(ptr);
});
const watcherFinalizer = new FinalizationRegistry<FfiHandle["ptr"]>(
  (ptr) => library().kvq_watch_free(ptr),
);

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
  resolve: (reply: Uint8Array) => void;
  /** Kept referenced until the answer, so its handle is not freed. */
  owner: FfiHandle;
}

const waiting = new Map<number, Waiting>();
let lastCall = 0;
let completion: Deno.UnsafeCallback<typeof COMPLETE> | undefined;

/**
 * The callback the library answers late calls through, made once. Deno
 * queues its invocations from the engine's threads onto the event loop; it
 * keeps the process alive only while a call is waiting.
 */
function completionCallback(lib: KvqSymbols): Deno.PointerObject {
  if (completion === undefined) {
    completion = Deno.UnsafeCallback.threadSafe(COMPLETE, (call, reply) => {
      const w = waiting.get(call);
      waiting.delete(call);
      if (waiting.size === 0) completion?.unref();
      const bytes = takeBytes(lib, reply);
      w?.resolve(bytes);
    });
    completion.unref();
  }
  return completion.pointer;
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
  owner: FfiHandle,
  invoke: (call: number) => Deno.PointerValue,
): Uint8Array | Promise<Uint8Array> {
  // Ids wrap after 2^32 calls; skip one still held by a long wait (a watch,
  // an idle listener's dequeue) so its answer cannot go astray.
  let id = lastCall;
  do id = id >= 0xffff_ffff ? 1 : id + 1; while (waiting.has(id));
  lastCall = id;
  const bytes = takeBytes(owner.lib, invoke(id));
  if (bytes.length !== 0) return bytes;
  return new Promise<Uint8Array>((resolve) => {
    if (waiting.size === 0) completion?.ref();
    waiting.set(id, { resolve, owner });
  });
}

/** kvq's transport for Deno, over the FFI library. */
export const ffiTransport: Transport = {
  name: "deno-ffi",
  open(path: string, options: string): FfiHandle {
    if (path !== ":memory:") requireFileAccess(path);
    const lib = library();
    const file = text(path);
    const json = text(options);
    const callback = completionCallback(lib);
    const { bytes, handle } = take(
      lib,
      lib.kvq_open(file, size(file), json, size(json), callback),
    );
    if (bytes[0] !== 0 || handle === null) unwrapError(bytes);
    const store = new FfiHandle(handle, lib);
    storeFinalizer.register(store, handle);
    return store;
  },
  close(store) {
    const s = store as FfiHandle;
    s.lib.kvq_close(s.ptr);
  },
  snapshotRead(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    // A file database answers at once; otherwise the worker answers later.
    return call(
      s,
      (id) => s.lib.kvq_snapshot_read(s.ptr, bytes, size(bytes), id),
    );
  },
  atomicWrite(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(s, (id) => s.lib.kvq_atomic_write(s.ptr, bytes, size(bytes), id)),
    );
  },
  atomicWriteMany(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(
        s,
        (id) => s.lib.kvq_atomic_write_many(s.ptr, bytes, size(bytes), id),
      ),
    );
  },
  dequeue(store, max, listener) {
    const s = store as FfiHandle;
    return Promise.resolve(
      call(s, (id) => s.lib.kvq_dequeue(s.ptr, max, listener, id)),
    );
  },
  cancelDequeue(store, listener) {
    const s = store as FfiHandle;
    s.lib.kvq_cancel_dequeue(s.ptr, listener);
  },
  finish(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      call(s, (id) => s.lib.kvq_finish(s.ptr, bytes, size(bytes), id)),
    );
  },
  watch(store, req): FfiHandle {
    const s = store as FfiHandle;
    const keys = request(req);
    const { bytes, handle } = take(
      s.lib,
      s.lib.kvq_watch(s.ptr, keys, size(keys)),
    );
    if (bytes[0] !== 0 || handle === null) unwrapError(bytes);
    const watcher = new FfiHandle(handle, s.lib);
    watcherFinalizer.register(watcher, handle);
    return watcher;
  },
  watchNext(watcher) {
    const w = watcher as FfiHandle;
    return Promise.resolve(call(w, (id) => w.lib.kvq_watch_next(w.ptr, id)));
  },
  watchClose(watcher) {
    const w = watcher as FfiHandle;
    w.lib.kvq_watch_close(w.ptr);
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
