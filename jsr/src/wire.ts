/**
 * Encoders for every request and decoders for every reply of docs/wire.md.
 * Requests are assembled in one reusable buffer ({@link req}); each encoder
 * is synchronous and runs no user code, so sharing it is safe.
 *
 * Errors follow Deno's timing: type errors (what serde_v8 rejects while
 * reading the arguments) throw at once; encoding errors found later by
 * Deno's op (a bigint too large, a malformed versionstamp) are recorded as
 * {@link RequestBuf.pending} so that the caller can raise them after every
 * type error and after the closed-database check, as Deno does.
 *
 * @module
 */

import { ByteBuf, readU32 } from "./buffer.ts";
import { BIGINT_TOO_LARGE, decodeKey, serdeError, writeKey } from "./key.ts";
import type { KvEntry, KvKeyPart } from "./types.ts";
import { decodeValue } from "./value.ts";

/** Mutation kinds on the wire (the KV Connect protobuf numbers). */
export const M_SET = 1;
/** Delete. */
export const M_DELETE = 2;
/** KvU64 or V8 sum. */
export const M_SUM = 3;
/** KvU64 max. */
export const M_MAX = 4;
/** KvU64 min. */
export const M_MIN = 5;
/** Set under the key with the commit's versionstamp appended. */
export const M_SET_VERSIONSTAMPED = 9;

/** The request buffer, with the first deferred error of the request. */
export class RequestBuf extends ByteBuf {
  /** The first encoding error of the request, raised by the caller. */
  pending: Error | null = null;

  /** Starts a new request. */
  start(): void {
    this.reset();
    this.pending = null;
  }

  /** Records `error` unless an earlier one is pending. */
  defer(error: Error): void {
    if (this.pending === null) this.pending = error;
  }

  /**
   * Writes `bytes key` (u32 length, then the encoded parts); returns false
   * when a bigint part was too large (the bytes are then meaningless).
   */
  key(key: unknown, parts?: number): boolean {
    const at = this.beginLength();
    const ok = writeKey(this, key, parts);
    this.endLength(at);
    return ok;
  }
}

/** The shared request buffer. */
export const req: RequestBuf = new RequestBuf();

// ----- snapshot read -----

/** Starts a snapshot read of `n` ranges. */
export function beginRead(n: number): void {
  req.start();
  req.u32(n);
}

/**
 * Adds the range of one key, as Deno's get sends it: `[K, K ‖ 00)` with
 * limit 1. A bigint too large defers Deno's plain message.
 */
export function readKeyRange(key: unknown): void {
  const at = req.pos;
  if (!req.key(key)) req.defer(new TypeError(BIGINT_TOO_LARGE));
  // The end is the start plus one zero byte: copy it within the buffer.
  const len = req.pos - at - 4;
  req.ensure(len + 5);
  req.dv.setUint32(req.pos, len + 1, true);
  req.buf.copyWithin(req.pos + 4, at + 4, at + 4 + len);
  req.buf[req.pos + 4 + len] = 0;
  req.pos += len + 5;
  req.u32(1);
  req.u8(0);
}

/** Adds an explicit range. */
export function readRange(
  start: Uint8Array,
  end: Uint8Array,
  limit: number,
  reverse: boolean,
): void {
  req.bytes(start);
  req.bytes(end);
  req.u32(limit);
  req.u8(reverse ? 1 : 0);
}

// ----- atomic write -----

/** Starts an atomic write with `n` checks. */
export function beginWrite(nChecks: number): void {
  req.start();
  req.u32(nChecks);
}

const HEX = /^[0-9a-fA-F]{20}$/;

/**
 * Adds a check. A versionstamp that is not a string (or null/undefined)
 * throws serde_v8's TypeError; one that is not 20 hex characters, or a key
 * that does not encode, defers "Invalid check".
 */
export function writeCheck(key: unknown, versionstamp: unknown): void {
  if (!req.key(key)) req.defer(new TypeError("Invalid check"));
  if (versionstamp === null || versionstamp === undefined) {
    req.u8(0);
    return;
  }
  if (typeof versionstamp !== "string") {
    throw serdeError("string", versionstamp);
  }
  req.u8(1);
  req.ensure(10);
  if (!HEX.test(versionstamp)) {
    req.defer(new TypeError("Invalid check"));
    req.pos += 10;
    return;
  }
  for (let i = 0; i < 10; i++) {
    req.buf[req.pos++] = parseInt(versionstamp.substring(2 * i, 2 * i + 2), 16);
  }
}

/** Writes the count of what follows (mutations, then enqueues). */
export function writeCount(n: number): void {
  req.u32(n);
}

/**
 * Adds a mutation. `parts` limits the key to its first parts (the
 * versionstamp symbol of a versionstamped set is dropped). `value` is the
 * encoded value for set/sum/min/max; `expireIn` is -1 for none.
 */
export function writeMutation(
  kind: number,
  key: unknown,
  parts: number | undefined,
  encoding: number,
  value: Uint8Array | null,
  expireIn: number,
): void {
  req.u8(kind);
  if (!req.key(key, parts)) {
    req.defer(new TypeError(`Invalid mutation: ${BIGINT_TOO_LARGE}`));
  }
  if (kind === M_DELETE) return;
  req.u8(encoding);
  req.bytes(value!);
  if (kind === M_SET || kind === M_SET_VERSIONSTAMPED) req.f64(expireIn);
}

/**
 * Adds an enqueue. `delay`, `keysIfUndelivered` and `backoffSchedule` are
 * the caller's values after Deno's defaults (`?? 0`, `?? []`, `?? null`);
 * their types are checked here as serde_v8 checks them.
 */
export function writeEnqueue(
  payload: Uint8Array,
  delay: unknown,
  keysIfUndelivered: unknown,
  backoffSchedule: unknown,
): void {
  if (typeof delay !== "number") throw serdeError("integer", delay);
  if (!Array.isArray(keysIfUndelivered)) {
    throw serdeError("array", keysIfUndelivered);
  }
  req.bytes(payload);
  req.f64(delay);
  req.u32(keysIfUndelivered.length);
  for (let i = 0; i < keysIfUndelivered.length; i++) {
    if (!req.key(keysIfUndelivered[i])) {
      req.defer(new TypeError("Invalid enqueue"));
    }
  }
  if (backoffSchedule === null) {
    req.u8(0);
    return;
  }
  if (!Array.isArray(backoffSchedule)) {
    throw serdeError("array", backoffSchedule);
  }
  req.u8(1);
  req.u32(backoffSchedule.length);
  for (let i = 0; i < backoffSchedule.length; i++) {
    const interval = backoffSchedule[i];
    if (typeof interval !== "number") throw serdeError("integer", interval);
    req.u32(interval);
  }
}

// ----- watch and finish -----

/** Starts a watch request. */
export function beginWatch(raw: boolean, n: number): void {
  req.start();
  req.u8(raw ? 1 : 0);
  req.u32(n);
}

/** Adds a watched key; a bigint too large defers Deno's plain message. */
export function watchKey(key: unknown): void {
  if (!req.key(key)) req.defer(new TypeError(BIGINT_TOO_LARGE));
}

/** What a listener reports for a delivered message (docs/wire.md). */
export const Outcome = {
  /** The handler threw or rejected: retry along the schedule. */
  Failed: 0,
  /** The handler succeeded: the message is gone. */
  Handled: 1,
  /** The handler never ran: back to the queue, the attempt not counted. */
  Released: 2,
  /** A named message failed: due again at a time, with its error. */
  Retry: 3,
  /** A named message failed for the last time: a dead letter. */
  Dead: 4,
} as const;

/** What a named message's failed attempt becomes, with its error. */
export interface Verdict {
  /** Due again at this time (epoch ms); absent: a dead letter. */
  at?: number;
  /** The attempt's error, as text. */
  error: string;
}

const utf8Out = new TextEncoder();

/** One of {@link Outcome}'s values. */
export type Outcome = typeof Outcome[keyof typeof Outcome];

/** Encodes a batch of handler outcomes for `finish`. */
export function encodeFinish(
  tokens: readonly number[],
  outcomes: readonly Outcome[],
  n: number,
  verdicts?: readonly (Verdict | null)[],
): Uint8Array {
  req.start();
  req.u32(n);
  for (let i = 0; i < n; i++) {
    req.f64(tokens[i]);
    const verdict = verdicts?.[i];
    if (verdict === undefined || verdict === null) {
      req.u8(outcomes[i]);
    } else if (verdict.at !== undefined) {
      req.u8(Outcome.Retry);
      req.f64(verdict.at);
      req.bytes(utf8Out.encode(verdict.error));
    } else {
      req.u8(Outcome.Dead);
      req.bytes(utf8Out.encode(verdict.error));
    }
  }
  return req.take();
}

// ----- replies -----

const HEX_BYTE: string[] = [];
for (let i = 0; i < 256; i++) HEX_BYTE.push(i.toString(16).padStart(2, "0"));

/** A cursor over one reply; positions start after the status byte. */
export class Reply {
  /** The reply bytes. */
  b: Uint8Array;
  /** The read position. */
  p = 1;

  /** Reads `b`, which must be a success reply (see checkReply). */
  constructor(b: Uint8Array) {
    this.b = b;
  }

  /** One byte. */
  u8(): number {
    return this.b[this.p++];
  }

  /** A little-endian u32. */
  u32(): number {
    const v = readU32(this.b, this.p);
    this.p += 4;
    return v;
  }

  /** A little-endian f64. */
  f64(): number {
    const b = this.b;
    const v = new DataView(b.buffer, b.byteOffset + this.p, 8).getFloat64(
      0,
      true,
    );
    this.p += 8;
    return v;
  }

  /** `bytes`: a view into the reply (copy it to keep it). */
  bytes(): Uint8Array {
    const n = this.u32();
    const v = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return v;
  }

  /** A 10-byte versionstamp as 20 lowercase hex characters. */
  versionstamp(): string {
    const b = this.b;
    const p = this.p;
    this.p += 10;
    return HEX_BYTE[b[p]] + HEX_BYTE[b[p + 1]] + HEX_BYTE[b[p + 2]] +
      HEX_BYTE[b[p + 3]] + HEX_BYTE[b[p + 4]] + HEX_BYTE[b[p + 5]] +
      HEX_BYTE[b[p + 6]] + HEX_BYTE[b[p + 7]] + HEX_BYTE[b[p + 8]] +
      HEX_BYTE[b[p + 9]];
  }

  /** A value (u8 encoding, bytes), decoded. */
  value(): unknown {
    const encoding = this.u8();
    const bytes = this.bytes();
    return decodeValue(encoding, bytes);
  }

  /** One snapshot-read entry with a freshly decoded key. */
  entry(): KvEntry<unknown> {
    const key = this.bytes();
    const value = this.value();
    return { key: decodeKey(key), value, versionstamp: this.versionstamp() };
  }
}

/**
 * Reads one range of a snapshot read reply into `entries`, and the raw key
 * bytes of each entry into `keys` (list needs them for cursors).
 */
export function readEntries(
  r: Reply,
  entries: KvEntry<unknown>[],
  keys: Uint8Array[],
): void {
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const raw = r.bytes();
    const value = r.value();
    const versionstamp = r.versionstamp();
    keys.push(raw);
    entries.push({ key: decodeKey(raw) as KvKeyPart[], value, versionstamp });
  }
}
