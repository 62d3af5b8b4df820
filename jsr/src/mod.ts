/**
 * The shared Deno.Kv implementation of kvq. The npm and jsr entry files
 * call {@link createOpenKv} with their transport and re-export the rest.
 *
 * @module
 */

export { createOpenKv, type OpenKv, resolvePath } from "./open.ts";
export { Kv } from "./kv.ts";
export { AtomicOperation } from "./atomic.ts";
export { KvListIterator } from "./list.ts";
export type { KvqPendingMessage, KvqPendingPage } from "./inspect.ts";
export { KvqKvU64, KvU64 } from "./value.ts";
import {
  type BadResource as KvqBadResource,
  badResourceClass,
} from "./errors.ts";
/** kvq's own BadResource class, for runtimes without `Deno.errors`. */
export type { KvqBadResource };

/**
 * The class of "Bad resource ID" errors kvq throws: `Deno.errors.BadResource`
 * under Deno, kvq's own `BadResource` elsewhere, so `instanceof` holds on
 * every runtime.
 */
export const BadResource: typeof KvqBadResource =
  badResourceClass() as typeof KvqBadResource;
/** A "Bad resource ID" error. */
export type BadResource = KvqBadResource;
export type {
  AtomicCheck,
  KvCommitError,
  KvCommitResult,
  KvConsistencyLevel,
  KvEnqueueOptions,
  KvEntry,
  KvEntryMaybe,
  KvKey,
  KvKeyPart,
  KvListOptions,
  KvListSelector,
  KvMutation,
  KvU64Like,
  ListenQueueOptions,
  OpenKvOptions,
  QueueHandler,
} from "./types.ts";
export type { NativeStore, NativeWatcher, Transport } from "./transport.ts";
export {
  DEFAULT_PREFIX,
  KvQueue,
  type KvQueueOptions,
  type KvStore,
  type KvStoreAtomic,
  QueuedAtomicOperation,
  QueuedKv,
  withQueues,
} from "./kvqueue/mod.ts";
export * from "./queues/mod.ts";
export * from "./http/mod.ts";
export {
  type CliCommand,
  type CliContext,
  runCli,
  UsageError,
} from "./cli/main.ts";
/** The interfaces, as Deno.Kv declares them, that Kv, AtomicOperation and
 * KvListIterator implement. */
export type {
  AtomicOperation as AtomicOperationLike,
  Kv as KvLike,
  KvListIterator as KvListIteratorLike,
} from "./types.ts";
