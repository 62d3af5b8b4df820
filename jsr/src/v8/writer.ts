/**
 * The V8 ValueSerializer, in TypeScript: the bytes V8 writes for a structured-clone
 * value at wire-format version 15, so Deno reads them back as the same value.
 *
 * @module
 */

import * as T from "./tags.ts";
import { ByteWriter, isInt32 } from "./byte_writer.ts";
import { depthError, MAX_DEPTH } from "./depth.ts";
import {
  classify,
  cloneError,
  detachedError,
  isProxy,
  K_ARRAY,
  K_ARRAY_BUFFER,
  K_BIGINT,
  K_BOOLEAN,
  K_DATE,
  K_ERROR,
  K_HOST,
  K_MAP,
  K_NUMBER,
  K_OBJECT,
  K_REGEXP,
  K_SET,
  K_STRING,
  K_VIEW,
  proxyError,
} from "./kind.ts";
import { DESCRIBED, hosts } from "./host/mod.ts";

type Dict = Record<string, unknown>;
type Buffer = ArrayBuffer & {
  resizable?: boolean;
  maxByteLength?: number;
  detached?: boolean;
};

const hasOwn = Object.prototype.hasOwnProperty;
const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;
const mapForEach = Map.prototype.forEach;
const setForEach = Set.prototype.forEach;
// The built-in methods, so that a sub-class overriding valueOf cannot change the bytes.
const dateValue = Date.prototype.getTime;
const booleanValue = Boolean.prototype.valueOf;
const numberValue = Number.prototype.valueOf;
const stringValue = String.prototype.valueOf;
const bigintValue = BigInt.prototype.valueOf;

/** Whether `b` is detached, where `detached` is missing (Node 20): views refuse it. */
function detached(b: ArrayBuffer): boolean {
  try {
    new Uint8Array(b);
    return false;
  } catch {
    return true;
  }
}

/** The array index a property key denotes (V8 writes those keys as numbers), or -1. */
function arrayIndex(key: string): number {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57) return -1;
  const n = +key;
  return (n >>> 0) === n && n !== 4294967295 && String(n) === key ? n : -1;
}

// forEach callbacks with the Writer as `this`: no closure per Map or Set. They count
// what they write, so a getter that grows the collection mid-way cannot make the
// count disagree with the bytes.
function writeMapEntry(this: Writer, value: unknown, key: unknown): void {
  this.value(key);
  this.value(value);
  this.entries += 2;
}

function writeSetEntry(this: Writer, value: unknown): void {
  this.value(value);
  this.entries++;
}

/**
 * One serialisation in progress. Instances are reused between calls: the growable
 * buffer and the id map survive, so a call allocates little beyond its result.
 */
export class Writer extends ByteWriter {
  /** Items written by the Map or Set being written. */
  entries = 0;
  /**
   * Objects, arrays, Maps, Sets and Errors being written, one inside the
   * other (reset with the writer when a serialisation ends, thrown or not).
   */
  depth = 0;

  /** Goes one level deeper; throws past {@link MAX_DEPTH}. */
  enter(): void {
    if (++this.depth > MAX_DEPTH) throw depthError();
  }

  /** Forgets the previous value, its depth included. */
  override reset(): void {
    super.reset();
    this.depth = 0;
  }

  /** Writes any structured-clone value; throws Deno's errors for the others. */
  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        return this.string(v);
      case "number":
        return this.number(v);
      case "boolean":
        return this.byte(v ? T.TRUE : T.FALSE);
      case "undefined":
        return this.byte(T.UNDEFINED);
      case "bigint":
        this.byte(T.BIGINT);
        return this.bigint(v);
      case "object":
        return v === null ? this.byte(T.NULL) : this.receiver(v);
      default:
        // Functions and symbols.
        throw cloneError(v);
    }
  }

  /** Writes a property key: array indices as numbers, like V8's kKeepNumbers. */
  key(k: string): void {
    const index = arrayIndex(k);
    if (index < 0) this.string(k);
    else this.number(index);
  }

  /** Writes an object, or a back-reference if this object was written before. */
  receiver(o: object): void {
    const seen = this.ids.get(o);
    if (seen !== undefined) {
      this.byte(T.OBJECT_REFERENCE);
      return this.varint(seen);
    }
    // Before any trap of the proxy runs.
    if (isProxy(o)) throw proxyError(o);
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype) {
      this.ids.set(o, this.ids.size);
      return this.object(o as Dict);
    }
    const kind = proto === Array.prototype && Array.isArray(o)
      ? K_ARRAY
      : classify(o, proto);
    if (kind === K_VIEW) {
      // V8 writes the view's buffer first, and only then gives the view its id.
      this.receiver((o as ArrayBufferView).buffer);
      this.ids.set(o, this.ids.size);
      return this.view(o as ArrayBufferView);
    }
    this.ids.set(o, this.ids.size);
    switch (kind) {
      case K_OBJECT:
        return this.object(o as Dict);
      case K_ARRAY:
        return this.array(o as unknown[]);
      case K_DATE:
        this.byte(T.DATE);
        return this.double(dateValue.call(o as Date));
      case K_REGEXP:
        return this.regexp(o as RegExp);
      case K_MAP:
        return this.map(o as Map<unknown, unknown>);
      case K_SET:
        return this.set(o as Set<unknown>);
      case K_ARRAY_BUFFER:
        return this.arrayBuffer(o as Buffer);
      case K_ERROR:
        return this.error(o as Error);
      case K_BOOLEAN:
        return this.byte(
          booleanValue.call(o) ? T.TRUE_OBJECT : T.FALSE_OBJECT,
        );
      case K_NUMBER:
        this.byte(T.NUMBER_OBJECT);
        return this.double(numberValue.call(o));
      case K_BIGINT:
        this.byte(T.BIGINT_OBJECT);
        return this.bigint(bigintValue.call(o));
      case K_STRING:
        this.byte(T.STRING_OBJECT);
        return this.string(stringValue.call(o));
      case K_HOST: {
        // Described before the tag is written: describing may throw.
        const description = hosts.describe(o);
        this.byte(T.HOST_OBJECT);
        this.varint(DESCRIBED);
        return this.value(description);
      }
    }
  }

  /** Writes own enumerable string-keyed properties, then '{' and their count. */
  object(o: Dict): void {
    this.enter();
    this.byte(T.BEGIN_OBJECT);
    const count = this.properties(o, Object.keys(o), 0);
    this.byte(T.END_OBJECT);
    this.varint(count);
    this.depth--;
  }

  /** Writes `keys[from..]` as key/value pairs; returns how many were written. */
  properties(o: Dict, keys: string[], from: number): number {
    let count = 0;
    for (let i = from; i < keys.length; i++) {
      const k = keys[i];
      const v = o[k];
      // A getter may have deleted a later key; V8 skips keys no longer present.
      if (v === undefined && !hasOwn.call(o, k)) continue;
      this.key(k);
      this.value(v);
      count++;
    }
    return count;
  }

  /** Writes an array densely ('A') when it has no holes, else sparsely ('a'). */
  array(a: unknown[]): void {
    this.enter();
    const n = a.length;
    let dense = true;
    let numbers = true;
    let doubles = false;
    for (let i = 0; i < n; i++) {
      const v = a[i];
      if (typeof v === "number") {
        if (!doubles && !isInt32(v)) doubles = true;
      } else {
        numbers = false;
        if (v === undefined && !(i in a)) {
          dense = false;
          break;
        }
      }
    }
    const keys = Object.keys(a);
    // The first n keys are the indices 0..n-1 unless one is not enumerable; V8
    // writes such (dictionary-mode) arrays sparsely, and so do we. Frozen,
    // sealed and non-extensible arrays have no fast elements kind in V8
    // either: written sparsely too.
    if (dense && n > 0 && keys[n - 1] !== String(n - 1)) dense = false;
    if (dense && !Object.isExtensible(a)) dense = false;
    if (!dense) {
      this.byte(T.BEGIN_SPARSE_ARRAY);
      this.varint(n);
      const count = this.properties(a as unknown as Dict, keys, 0);
      this.byte(T.END_SPARSE_ARRAY);
      this.varint(count);
      this.varint(n);
      this.depth--;
      return;
    }
    this.byte(T.BEGIN_DENSE_ARRAY);
    this.varint(n);
    if (numbers && doubles) {
      // V8 stores such an array as PACKED_DOUBLE_ELEMENTS and writes every
      // element as a double, integers included.
      for (let i = 0; i < n; i++) {
        this.byte(T.DOUBLE);
        this.double(a[i] as number);
      }
    } else {
      for (let i = 0; i < n; i++) this.value(a[i]);
    }
    const count = this.properties(a as unknown as Dict, keys, n);
    this.byte(T.END_DENSE_ARRAY);
    this.varint(count);
    this.varint(n);
    this.depth--;
  }

  /** Writes a RegExp: its source and V8's flag bits. */
  regexp(r: RegExp): void {
    this.byte(T.REGEXP);
    this.string(r.source);
    const flags = r.flags;
    let bits = 0;
    for (let i = 0; i < flags.length; i++) bits |= T.REGEXP_FLAG_BITS[flags[i]];
    this.varint(bits);
  }

  /** Writes a Map's entries in insertion order. */
  map(m: Map<unknown, unknown>): void {
    this.enter();
    this.byte(T.BEGIN_MAP);
    const outer = this.entries;
    this.entries = 0;
    mapForEach.call(m, writeMapEntry as () => void, this);
    const count = this.entries;
    this.entries = outer;
    this.byte(T.END_MAP);
    this.varint(count);
    this.depth--;
  }

  /** Writes a Set's elements in insertion order. */
  set(s: Set<unknown>): void {
    this.enter();
    this.byte(T.BEGIN_SET);
    const outer = this.entries;
    this.entries = 0;
    setForEach.call(s, writeSetEntry as () => void, this);
    const count = this.entries;
    this.entries = outer;
    this.byte(T.END_SET);
    this.varint(count);
    this.depth--;
  }

  /** Writes an ArrayBuffer ('B'), or a resizable one ('~'), with its bytes. */
  arrayBuffer(b: Buffer): void {
    const n = b.byteLength;
    if (
      b.detached === true ||
      (n === 0 && b.detached === undefined && detached(b))
    ) {
      throw detachedError();
    }
    if (b.resizable === true) {
      this.byte(T.RESIZABLE_ARRAY_BUFFER);
      this.varint(n);
      this.varint(b.maxByteLength!);
    } else {
      this.byte(T.ARRAY_BUFFER);
      this.varint(n);
    }
    this.ensure(n);
    this.buf.set(new Uint8Array(b, 0, n), this.pos);
    this.pos += n;
  }

  /** Writes the 'V' record of a typed array or DataView (its buffer came first). */
  view(v: ArrayBufferView): void {
    const name = typedArrayTag.call(v) as string | undefined;
    const subtag = name === undefined ? T.VIEW_DATA_VIEW : T.VIEW_SUBTAGS[name];
    if (subtag === undefined) throw cloneError(v);
    const buffer = v.buffer as Buffer;
    let flags = 0;
    let length = v.byteLength;
    if (buffer.resizable === true) {
      flags = T.VIEW_BACKED_BY_RAB;
      // JS cannot see whether a view tracks its buffer's length; one that reaches
      // the end of the buffer is taken to (the common `new Uint8Array(rab)`).
      // V8 writes 0 as the length of a length-tracking view.
      if (v.byteOffset + length === buffer.byteLength) {
        flags |= T.VIEW_LENGTH_TRACKING;
        length = 0;
      }
    }
    this.byte(T.ARRAY_BUFFER_VIEW);
    this.byte(subtag);
    this.varint(v.byteOffset);
    this.varint(length);
    this.varint(flags);
  }

  /** Writes an Error: prototype, message, stack, cause, in V8 15's order. */
  error(e: Error): void {
    const message = Object.getOwnPropertyDescriptor(e, "message");
    const cause = Object.getOwnPropertyDescriptor(e, "cause");
    this.enter();
    this.byte(T.ERROR);
    switch (String(e.name)) {
      case "EvalError":
        this.byte(T.ERROR_EVAL);
        break;
      case "RangeError":
        this.byte(T.ERROR_RANGE);
        break;
      case "ReferenceError":
        this.byte(T.ERROR_REFERENCE);
        break;
      case "SyntaxError":
        this.byte(T.ERROR_SYNTAX);
        break;
      case "TypeError":
        this.byte(T.ERROR_TYPE);
        break;
      case "URIError":
        this.byte(T.ERROR_URI);
        break;
    }
    if (message !== undefined && "value" in message) {
      this.byte(T.ERROR_MESSAGE);
      this.string(String(message.value));
    }
    const stack = e.stack;
    if (typeof stack === "string") {
      this.byte(T.ERROR_STACK);
      this.string(stack);
    }
    if (cause !== undefined && "value" in cause) {
      this.byte(T.ERROR_CAUSE);
      this.value(cause.value);
    }
    this.byte(T.ERROR_END);
    this.depth--;
  }
}
