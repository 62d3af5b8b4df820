/**
 * `KvListIterator`: selectors to byte ranges, batched snapshot reads,
 * limit, reverse and Deno's cursor. Selector-shape and option errors throw
 * from `list()`; key, consistency and cursor errors reject the first
 * `next()`, as in Deno.
 *
 * @module
 */

import {
  checkBatchSize,
  checkConsistency,
  checkLimit,
  readable,
} from "./check.ts";
import {
  append,
  type ByteSelector,
  cursorRange,
  encodeCursor,
  selectorRange,
} from "./cursor.ts";
import { BIGINT_TOO_LARGE, serdeError, writeKey } from "./key.ts";
import { ByteBuf } from "./buffer.ts";
import type { KvState } from "./state.ts";
import { checkReply } from "./transport.ts";
import type * as T from "./types.ts";
import { beginRead, readEntries, readRange, Reply, req } from "./wire.ts";

type Key = readonly unknown[];

// Selector keys are encoded once per iterator, into their own buffer so
// that the bytes survive the shared request buffer's reuse.
const keyBuf = new ByteBuf();

function encodeSelectorKey(key: Key | undefined): Uint8Array | undefined {
  if (key === undefined) return undefined;
  keyBuf.reset();
  if (!writeKey(keyBuf, key)) throw new TypeError(BIGINT_TOO_LARGE);
  return keyBuf.take();
}

function copySelectorKey(v: unknown): Key {
  // Deno copies each member with Array.prototype.slice and freezes it, so a
  // string prefix "ab" reads as ["a", "b"].
  if (v === null) {
    throw new TypeError("Cannot convert undefined or null to object");
  }
  return Object.freeze(Array.prototype.slice.call(v));
}

/** The iterator `kv.list()` returns, shaped like Deno.KvListIterator. */
export class KvListIterator<V = unknown> implements T.KvListIterator<V> {
  #s: KvState;
  #prefix: Key | undefined;
  #start: Key | undefined;
  #end: Key | undefined;
  #limit: number | undefined;
  #batchSize: number;
  #reverse: boolean;
  #consistency: unknown;
  #cursorOption: unknown;
  #sel: ByteSelector | null = null;
  #rangeStart: Uint8Array | null = null;
  #rangeEnd: Uint8Array | null = null;
  #entries: T.KvEntry<V>[] = [];
  #keys: Uint8Array[] = [];
  #index = 0;
  #lastBatch = false;
  #done = false;
  #count = 0;
  #lastKey: Uint8Array | null = null;

  /** Made by `kv.list()`; throws Deno's selector and option errors. */
  constructor(state: KvState, selector: unknown, options: T.KvListOptions) {
    readable(options, "limit");
    const limit = options.limit;
    checkLimit(limit);
    let batchSize = options.batchSize ?? (limit ?? 100);
    checkBatchSize(batchSize);
    if (options.batchSize === undefined && batchSize > 500) batchSize = 500;
    const sel = selector as {
      prefix?: unknown;
      start?: unknown;
      end?: unknown;
    };
    if (selector === null || selector === undefined) {
      throw new TypeError("Cannot convert undefined or null to object");
    }
    const has = Object.hasOwn;
    const prefix = has(sel, "prefix") && sel.prefix !== undefined
      ? copySelectorKey(sel.prefix)
      : undefined;
    const start = has(sel, "start") && sel.start !== undefined
      ? copySelectorKey(sel.start)
      : undefined;
    const end = has(sel, "end") && sel.end !== undefined
      ? copySelectorKey(sel.end)
      : undefined;
    if (prefix !== undefined) {
      if (start !== undefined && end !== undefined) {
        throw new TypeError(
          "Selector can not specify both 'start' and 'end' key when specifying 'prefix'",
        );
      }
    } else if (start === undefined || end === undefined) {
      throw new TypeError(
        "Selector must specify either 'prefix' or both 'start' and 'end' key",
      );
    }
    this.#s = state;
    this.#prefix = prefix;
    this.#start = start;
    this.#end = end;
    this.#limit = limit;
    this.#batchSize = batchSize;
    // Deno hands `reverse` to serde as a bool: only `true` reverses.
    this.#reverse = options.reverse === true;
    this.#consistency = options.consistency;
    this.#cursorOption = options.cursor;
  }

  /**
   * The cursor after the last yielded entry, `""` once exhausted; before
   * the first entry, the cursor option if one was given, else an Error.
   */
  get cursor(): string {
    if (this.#done) return "";
    if (this.#lastKey !== null) return encodeCursor(this.#sel!, this.#lastKey);
    if (this.#cursorOption) return this.#cursorOption as string;
    throw new Error("Cannot get cursor before first iteration");
  }

  /** The next entry, reading a new batch when the current one is used up. */
  async next(): Promise<IteratorResult<T.KvEntry<V>, undefined>> {
    if (
      this.#done ||
      (this.#limit !== undefined && this.#count >= this.#limit)
    ) {
      return { done: true, value: undefined };
    }
    if (this.#index >= this.#entries.length && !this.#lastBatch) {
      await this.#pull();
    }
    const i = this.#index;
    if (i >= this.#entries.length) {
      this.#done = true;
      return { done: true, value: undefined };
    }
    this.#index = i + 1;
    this.#lastKey = this.#keys[i];
    this.#count++;
    return { done: false, value: this.#entries[i] };
  }

  /** The iterator itself. */
  [Symbol.asyncIterator](): AsyncIterableIterator<T.KvEntry<V>> {
    return this;
  }

  #firstRange(): void {
    const prefix = encodeSelectorKeyTyped(this.#prefix);
    const start = encodeSelectorKeyTyped(this.#start);
    const end = encodeSelectorKeyTyped(this.#end);
    checkConsistency(this.#consistency);
    const cursor = this.#cursorOption;
    if (cursor && typeof cursor !== "string") {
      throw serdeError("string", cursor);
    }
    this.#s.ensureOpen();
    const sel = selectorRange(
      encodeSelectorKey(prefix),
      encodeSelectorKey(start),
      encodeSelectorKey(end),
    );
    if (cursor) {
      [this.#rangeStart, this.#rangeEnd] = cursorRange(
        sel,
        cursor as string,
        this.#reverse,
      );
    } else {
      this.#rangeStart = sel.start;
      this.#rangeEnd = sel.end;
    }
    this.#sel = sel;
  }

  async #pull(): Promise<void> {
    if (this.#sel === null) {
      this.#firstRange();
    } else {
      this.#s.ensureOpen();
      // Resume after the last yielded key, as Deno does with its cursor.
      const last = this.#lastKey!;
      if (this.#reverse) this.#rangeEnd = last;
      else this.#rangeStart = append(last, 0);
    }
    beginRead(1);
    readRange(
      this.#rangeStart!,
      this.#rangeEnd!,
      this.#batchSize,
      this.#reverse,
    );
    const request = req.take();
    const s = this.#s;
    const reply = checkReply(await s.snapshotRead(request));
    const r = new Reply(reply);
    r.u32();
    const entries: T.KvEntry<V>[] = [];
    const keys: Uint8Array[] = [];
    readEntries(r, entries as T.KvEntry<unknown>[], keys);
    this.#entries = entries;
    this.#keys = keys;
    this.#index = 0;
    if (entries.length < this.#batchSize) this.#lastBatch = true;
  }
}

// Type errors of every selector key come before any encoding error (Deno's
// serde pass precedes its encoder): check types first, encode afterwards.
function encodeSelectorKeyTyped(key: Key | undefined): Key | undefined {
  if (key !== undefined) {
    keyBuf.reset();
    writeKey(keyBuf, key);
  }
  return key;
}
