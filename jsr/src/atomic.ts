/**
 * `AtomicOperation`: the builder of checks, mutations and enqueues, and the
 * commit that sends them as one atomic write. Validation happens when Deno
 * does it: values, expireIn, delay and backoff when an operation is added;
 * keys and versionstamps at commit.
 *
 * @module
 */

import {
  checkBackoffSchedule,
  checkDelay,
  checkExpireIn,
  checkKeysIfUndelivered,
  readable,
} from "./check.ts";
import { renderAtomic, type Show } from "./atomic_inspect.ts";
import { badResource } from "./errors.ts";
import { COMMIT_VERSIONSTAMP, KvState } from "./state.ts";
import { checkReply } from "./transport.ts";
import {
  encodeNamedWrite,
  restoreRiders,
  sendNamedWrite,
  takeRiders,
} from "./named_write.ts";
import type * as T from "./types.ts";
import {
  ENC_LE64,
  KvU64,
  le64,
  serializePayload,
  valueBytes,
  valueEncoding,
} from "./value.ts";
import {
  beginWrite,
  M_DELETE,
  M_MAX,
  M_MIN,
  M_SET,
  M_SET_VERSIONSTAMPED,
  M_SUM,
  Reply,
  req,
  writeCheck,
  writeCount,
  writeEnqueue,
  writeMutation,
} from "./wire.ts";

const MAX_CHECKS = 100;
const MAX_MUTATIONS = 1000;

/**
 * Sends an encoded atomic write and reads its outcome: the versionstamp,
 * or null when a check failed. `pending` is the request's deferred error,
 * raised after the closed check as Deno raises it.
 */
export async function sendWrite(
  s: KvState,
  request: Uint8Array,
  pending: Error | null,
): Promise<string | null> {
  s.ensureOpen();
  if (pending !== null) throw pending;
  const reply = checkReply(await s.writes.submit(request));
  if (reply[1] !== 1) return null;
  const r = new Reply(reply);
  r.p = 2;
  return r.versionstamp();
}

/**
 * Deno's commitVersionstamp rewrite for a set: when `key` ends with the
 * commitVersionstamp symbol, the part count to send (the symbol dropped)
 * for a versionstamped set; otherwise -1. Reads `key.length` first, as
 * Deno's rewrite loop does, so a null key throws "Cannot read properties of
 * null (reading 'length')".
 */
export function versionstampedParts(key: unknown): number {
  const n = keyLength(key);
  return n && Array.isArray(key) && key[n - 1] === COMMIT_VERSIONSTAMP
    ? n - 1
    : -1;
}

/** `key.length`, throwing V8's TypeError for null and undefined. */
export function keyLength(key: unknown): number {
  readable(key, "length");
  return (key as { length: number }).length;
}

/** An atomic operation on one database, shaped like Deno.AtomicOperation. */
export class AtomicOperation implements T.AtomicOperation {
  #s: KvState | undefined;
  // Parallel arrays rather than one object per operation: cheaper to build
  // and to walk at commit.
  #checkKeys: unknown[] = [];
  #checkStamps: unknown[] = [];
  #kinds: number[] = [];
  #keys: unknown[] = [];
  #encodings: number[] = [];
  #values: (Uint8Array | null)[] = [];
  #expiries: number[] = [];
  #payloads: Uint8Array[] = [];
  #delays: unknown[] = [];
  #deadKeys: unknown[] = [];
  #backoffs: unknown[] = [];

  /**
   * Made by `kv.atomic()`. Constructing one directly works (as in Deno) but
   * gives an operation whose commit rejects with BadResource.
   */
  constructor(state?: unknown) {
    this.#s = state instanceof KvState ? state : undefined;
  }

  /** Adds checks: each key must currently have the given versionstamp. */
  check(...checks: T.AtomicCheck[]): this {
    for (let i = 0; i < checks.length; ++i) {
      const check = checks[i];
      readable(check, "key");
      this.#checkKeys.push(check.key);
      this.#checkStamps.push(check.versionstamp);
    }
    return this;
  }

  /** Adds mutations, validating and serialising each now. */
  mutate(...mutations: T.KvMutation[]): this {
    for (let i = 0; i < mutations.length; ++i) {
      const m = mutations[i] as {
        key: unknown;
        type: unknown;
        value?: unknown;
        expireIn?: unknown;
      };
      readable(m, "key");
      const key = m.key;
      let kind: number;
      let expireIn = -1;
      switch (m.type) {
        case "delete":
          if (m.value) {
            throw new TypeError("Invalid mutation 'delete' with value");
          }
          this.#push(M_DELETE, key, 0, null, -1);
          continue;
        case "set":
          if (typeof m.expireIn === "number") {
            checkExpireIn(m.expireIn);
            expireIn = m.expireIn;
          }
          kind = M_SET;
          break;
        case "sum":
          kind = M_SUM;
          break;
        case "min":
          kind = M_MIN;
          break;
        case "max":
          kind = M_MAX;
          break;
        default:
          throw new TypeError("Invalid mutation type");
      }
      if (!Object.hasOwn(m, "value")) {
        throw new TypeError(`Invalid mutation '${m.type}' without value`);
      }
      const encoding = valueEncoding(m.value);
      this.#push(kind, key, encoding, valueBytes(encoding, m.value), expireIn);
    }
    return this;
  }

  /** Adds a KvU64 sum; `n` must be a bigint in 0..2^64-1 (throws now). */
  sum(key: T.KvKey, n: bigint): this {
    this.#push(M_SUM, key, ENC_LE64, le64(new KvU64(n).value), -1);
    return this;
  }

  /** Adds a KvU64 min; `n` must be a bigint in 0..2^64-1 (throws now). */
  min(key: T.KvKey, n: bigint): this {
    this.#push(M_MIN, key, ENC_LE64, le64(new KvU64(n).value), -1);
    return this;
  }

  /** Adds a KvU64 max; `n` must be a bigint in 0..2^64-1 (throws now). */
  max(key: T.KvKey, n: bigint): this {
    this.#push(M_MAX, key, ENC_LE64, le64(new KvU64(n).value), -1);
    return this;
  }

  /** Adds a set; `expireIn` and the value are checked now. */
  set(key: T.KvKey, value: unknown, options?: { expireIn?: number }): this {
    const expireIn = options?.expireIn;
    checkExpireIn(expireIn);
    const encoding = valueEncoding(value);
    this.#push(
      M_SET,
      key,
      encoding,
      valueBytes(encoding, value),
      expireIn ?? -1,
    );
    return this;
  }

  /** Adds a delete. */
  delete(key: T.KvKey): this {
    this.#push(M_DELETE, key, 0, null, -1);
    return this;
  }

  /** Adds a queue message; delay, backoff and the payload are checked now. */
  enqueue(value: unknown, options?: T.KvEnqueueOptions): this {
    if (options?.delay !== undefined) checkDelay(options.delay);
    if (options?.backoffSchedule !== undefined) {
      checkBackoffSchedule(options.backoffSchedule);
    }
    this.#payloads.push(serializePayload(value));
    this.#delays.push(options?.delay ?? 0);
    this.#deadKeys.push(options?.keysIfUndelivered ?? []);
    this.#backoffs.push(options?.backoffSchedule ?? null);
    return this;
  }

  /**
   * Commits: `{ok: true, versionstamp}`, or `{ok: false}` when a check
   * failed. Anything else rejects, and nothing is written.
   */
  async commit(): Promise<T.KvCommitResult | T.KvCommitError> {
    const kinds = this.#kinds;
    const keys = this.#keys;
    const n = kinds.length;
    for (let i = 0; i < n; i++) keyLength(keys[i]);
    const nChecks = this.#checkKeys.length;
    beginWrite(nChecks);
    for (let i = 0; i < nChecks; i++) {
      writeCheck(this.#checkKeys[i], this.#checkStamps[i]);
    }
    writeCount(n);
    for (let i = 0; i < n; i++) {
      let kind = kinds[i];
      let parts = -1;
      if (kind === M_SET) {
        parts = versionstampedParts(keys[i]);
        if (parts >= 0) kind = M_SET_VERSIONSTAMPED;
      }
      writeMutation(
        kind,
        keys[i],
        parts < 0 ? undefined : parts,
        this.#encodings[i],
        this.#values[i],
        this.#expiries[i],
      );
    }
    const nEnqueues = this.#payloads.length;
    writeCount(nEnqueues);
    for (let i = 0; i < nEnqueues; i++) {
      checkKeysIfUndelivered(this.#deadKeys[i]);
      writeEnqueue(
        this.#payloads[i],
        this.#delays[i],
        this.#deadKeys[i],
        this.#backoffs[i],
      );
    }
    let pending = req.pending;
    const request = req.take();
    if (this.#s === undefined) throw badResource();
    // Deno counts before it decodes: a limit error wins over a bad key.
    if (pending !== null) {
      if (nChecks > MAX_CHECKS) {
        pending = new TypeError(`Too many checks (max ${MAX_CHECKS})`);
      } else if (n + nEnqueues > MAX_MUTATIONS) {
        pending = new TypeError(`Too many mutations (max ${MAX_MUTATIONS})`);
      }
    }
    const named = takeRiders(this);
    if (named !== undefined) {
      // Named-queue messages ride in this commit (queues/native.ts); a
      // commit that fails or rejects leaves them in the operation, so
      // committing it again still carries them.
      let done;
      try {
        this.#s.ensureOpen();
        if (pending !== null) throw pending;
        done = await sendNamedWrite(this.#s, encodeNamedWrite(request, named));
      } catch (error) {
        restoreRiders(this, named);
        throw error;
      }
      if (done === null) {
        restoreRiders(this, named);
        return { ok: false };
      }
      return { ok: true, versionstamp: done.versionstamp };
    }
    const versionstamp = await sendWrite(this.#s, request, pending);
    return versionstamp === null ? { ok: false } : { ok: true, versionstamp };
  }

  /** Always throws: an AtomicOperation is not a promise. */
  then(): never {
    throw new TypeError(
      "'Deno.AtomicOperation' is not a promise: did you forget to call 'commit()'",
    );
  }

  /** `Deno.inspect`: the queued operations, one a line, as Deno shows them. */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return this.#render((v) => inspect(v, options));
  }

  /** Node's and Bun's `util.inspect`: the same lines as under Deno. */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    return this.#render((v) => inspect(v, options));
  }

  #render(show: Show): string {
    return renderAtomic({
      checkKeys: this.#checkKeys,
      checkStamps: this.#checkStamps,
      kinds: this.#kinds,
      keys: this.#keys,
      encodings: this.#encodings,
      values: this.#values,
      expiries: this.#expiries,
      payloads: this.#payloads,
      delays: this.#delays,
      deadKeys: this.#deadKeys,
      backoffs: this.#backoffs,
    }, show);
  }

  #push(
    kind: number,
    key: unknown,
    encoding: number,
    value: Uint8Array | null,
    expireIn: number,
  ): void {
    this.#kinds.push(kind);
    this.#keys.push(key);
    this.#encodings.push(encoding);
    this.#values.push(value);
    this.#expiries.push(expireIn);
  }
}
