/**
 * The FFI transport: the eight operations of `Transport` over kvq's native
 * library on Deno. Thin, like the N-API one: it moves bytes, turns the two
 * synchronous error replies into exceptions, and owns the native handles'
 * lifetimes.
 *
 * A call starts synchronously: the library decodes the request and hands
 * it to the engine's worker without waiting, and returns a pending handle.
 * The waiting is done by the nonblocking `kvq_wait` (Deno runs it on its
 * blocking pool and resolves a Promise), so the event loop never waits. A
 * snapshot read of a file database is answered synchronously, as on Node.
 *
 * Handles are freed when their JavaScript wrapper is garbage-collected
 * (as napi-rs frees a class instance): a pending call keeps its wrapper
 * reachable, so a handle is never freed under a running call, and a call
 * after `close` still finds a valid (closed) store and gets the engine's
 * closed error.
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
  /** Calls completed; touched by each completion, which keeps `this` alive. */
  calls = 0;
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

/** A NUL-terminated UTF-8 string: never an empty (null) buffer. */
function cString(text: string): Uint8Array {
  return utf8.encode(text + "\0");
}

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

/**
 * Finishes a call that started synchronously: its reply when the library
 * answered at once, else a promise of `kvq_wait` on the pending handle.
 * The wrapper stays referenced until the wait settles, so the store or
 * watcher it belongs to is not collected (and freed) under a running call.
 * Requests need no holding: the library decodes them before returning.
 */
function finishCall(
  lib: KvqSymbols,
  reply: Deno.PointerValue,
  owner: FfiHandle,
): Uint8Array | Promise<Uint8Array> {
  const { bytes, handle } = take(lib, reply);
  if (handle === null) return bytes;
  return lib.kvq_wait(handle).then((done) => {
    owner.calls++;
    return takeBytes(lib, done);
  });
}

/** kvq's transport for Deno, over the FFI library. */
export const ffiTransport: Transport = {
  name: "deno-ffi",
  open(path: string, options: string): FfiHandle {
    if (path !== ":memory:") requireFileAccess(path);
    const lib = library();
    const file = cString(path);
    const json = cString(options);
    const { bytes, handle } = take(
      lib,
      lib.kvq_open(file, size(file), json, size(json)),
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
    // A file database answers here; otherwise the worker answers later.
    return finishCall(
      s.lib,
      s.lib.kvq_snapshot_read(s.ptr, bytes, size(bytes)),
      s,
    );
  },
  atomicWrite(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      finishCall(s.lib, s.lib.kvq_atomic_write(s.ptr, bytes, size(bytes)), s),
    );
  },
  atomicWriteMany(store, req) {
    const s = store as FfiHandle;
    const bytes = request(req);
    return Promise.resolve(
      finishCall(
        s.lib,
        s.lib.kvq_atomic_write_many(s.ptr, bytes, size(bytes)),
        s,
      ),
    );
  },
  dequeue(store, max, listener) {
    const s = store as FfiHandle;
    return Promise.resolve(
      finishCall(s.lib, s.lib.kvq_dequeue(s.ptr, max, listener), s),
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
      finishCall(s.lib, s.lib.kvq_finish(s.ptr, bytes, size(bytes)), s),
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
    return w.lib.kvq_watch_next(w.ptr).then((reply) => {
      // Touching `w` keeps the watcher alive until the call settles.
      w.calls++;
      return takeBytes(w.lib, reply);
    });
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
