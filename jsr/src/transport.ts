/**
 * The seam between the shared TypeScript and a native binding: operations
 * of bytes in, bytes out (docs/wire.md), implemented by the
 * N-API addon on Node and Bun and by the FFI library on Deno. A transport
 * has no logic of its own; everything else lives in the shared code.
 *
 * @module
 */

import { engineError } from "./errors.ts";

/** An open database inside the native library; opaque to the shared code. */
export type NativeStore = unknown;

/** A watcher inside the native library; opaque to the shared code. */
export type NativeWatcher = unknown;

/** The operations every binding provides. Replies are wire replies. */
export interface Transport {
  /** The runtime this transport serves, for messages ("node", "deno"...). */
  readonly name: string;
  /**
   * Whether to keep the event loop polling while a write or an in-memory
   * read is in flight (awake.ts): true only where measured to pay.
   */
  readonly keepLoopAwake?: boolean;
  /**
   * Opens a database: `":memory:"` or a file path; `options` is JSON.
   * Asynchronous, and never on the JavaScript thread: opening creates or
   * migrates the file and may wait for another process's write lock (a
   * remote backend would connect). Rejects with the engine's error (via
   * {@link unwrapError}) if it cannot open.
   */
  open(path: string, options: string): Promise<NativeStore>;
  /** Closes a database; idempotent. Queued requests fail, listeners end. */
  close(store: NativeStore): void;
  /**
   * A snapshot read. A binding may answer at once (a file database read on
   * the calling thread takes microseconds) or with a promise; callers
   * `await` either.
   */
  snapshotRead(
    store: NativeStore,
    request: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
  /** An atomic write. */
  atomicWrite(store: NativeStore, request: Uint8Array): Promise<Uint8Array>;
  /**
   * Several atomic writes in one call and one transaction: u32 n, then per
   * write a u32 length and its request; the reply holds each write's own
   * reply the same way (docs/wire.md).
   */
  atomicWriteMany(
    store: NativeStore,
    request: Uint8Array,
  ): Promise<Uint8Array>;
  /**
   * Waits for up to `max` due messages and leases them, on behalf of
   * `listener` (a nonzero id the caller picks), whose wait
   * {@link Transport.cancelDequeue} can end.
   */
  dequeue(
    store: NativeStore,
    max: number,
    listener: number,
  ): Promise<Uint8Array>;
  /**
   * {@link Transport.dequeue} from the named queue `queue` (UTF-8), claims
   * lasting `leaseMs` (0: the store's lease): the messages carry their
   * metadata (kvq-core's wire_named.rs). Optional: without it, named
   * queues are kept as keys.
   */
  dequeueNamed?(
    store: NativeStore,
    max: number,
    listener: number,
    queue: Uint8Array,
    leaseMs: number,
  ): Promise<Uint8Array>;
  /**
   * Stores named-queue messages, inside an atomic write when the request
   * carries one (wire_named.rs). Optional, as {@link dequeueNamed}.
   */
  writeNamed?(store: NativeStore, request: Uint8Array): Promise<Uint8Array>;
  /**
   * Ends `listener`'s waiting dequeue: it resolves with no messages, so a
   * listener that stopped takes no message it would not run.
   */
  cancelDequeue(store: NativeStore, listener: number): void;
  /** Reports handled messages. */
  finish(store: NativeStore, request: Uint8Array): Promise<Uint8Array>;
  /**
   * kvq's own read for moving data (`kvq copy`): entry expiries or the
   * queue's messages not yet handled; a JSON request, and a reply whose
   * payload is JSON (kvq-core's wire_inspect.rs). Optional: a transport
   * without it reads as a store that cannot tell.
   */
  inspect?(store: NativeStore, request: Uint8Array): Promise<Uint8Array>;
  /**
   * Starts a watch. The engine's refusal of the request (a closed store, a
   * limit) is thrown at once, as Deno throws it from `kv.watch()`; the
   * watcher itself may arrive later (a backend may need I/O to start one),
   * so it comes as a promise, which rejects only if starting fails after
   * the checks.
   */
  watch(store: NativeStore, request: Uint8Array): Promise<NativeWatcher>;
  /** The watch's next state. */
  watchNext(watcher: NativeWatcher): Promise<Uint8Array>;
  /** Releases a watcher. */
  watchClose(watcher: NativeWatcher): void;
}

const utf8 = new TextDecoder();

/**
 * Throws the error an error reply carries. Call only on a reply whose first
 * byte is 1.
 */
export function unwrapError(reply: Uint8Array): never {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const cls = reply[1];
  const codeLength = view.getUint32(2, true);
  const code = utf8.decode(reply.subarray(6, 6 + codeLength));
  const at = 6 + codeLength;
  const messageLength = view.getUint32(at, true);
  const message = utf8.decode(reply.subarray(at + 4, at + 4 + messageLength));
  throw engineError(cls, code, message);
}

/**
 * Checks a reply's status byte: returns the reply when it is a success (the
 * payload starts at offset 1), throws its error otherwise.
 */
export function checkReply(reply: Uint8Array): Uint8Array {
  if (reply[0] !== 0) unwrapError(reply);
  return reply;
}
