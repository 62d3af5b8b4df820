/**
 * The V8 ValueDeserializer, in TypeScript: reads what V8 writes at wire-format
 * versions 13 to 16, with V8's own checks (counts, lengths, bounds, flags).
 *
 * @module
 */

import * as T from "./tags.ts";
import { ByteReader, fail } from "./byte_reader.ts";
import { MAX_DEPTH } from "./depth.ts";
import { DESCRIBED, hosts } from "./host/mod.ts";

type Dict = Record<PropertyKey, unknown>;
type ViewConstructor = new (
  buffer: ArrayBuffer,
  byteOffset?: number,
  length?: number,
) => ArrayBufferView;

const Float16 = (globalThis as { Float16Array?: ViewConstructor }).Float16Array;

// Constructor and element size for each view subtag.
const VIEWS = new Map<number, [ViewConstructor, number]>([
  [0x62, [Int8Array, 1]],
  [0x42, [Uint8Array, 1]],
  [0x43, [Uint8ClampedArray, 1]],
  [0x77, [Int16Array, 2]],
  [0x57, [Uint16Array, 2]],
  [0x64, [Int32Array, 4]],
  [0x44, [Uint32Array, 4]],
  [0x66, [Float32Array, 4]],
  [0x46, [Float64Array, 8]],
  [0x71, [BigInt64Array as unknown as ViewConstructor, 8]],
  [0x51, [BigUint64Array as unknown as ViewConstructor, 8]],
  [T.VIEW_DATA_VIEW, [DataView, 1]],
]);
if (Float16 !== undefined) VIEWS.set(0x68, [Float16, 2]);

const ERRORS = new Map<number, ErrorConstructor>([
  [T.ERROR_EVAL, EvalError],
  [T.ERROR_RANGE, RangeError],
  [T.ERROR_REFERENCE, ReferenceError],
  [T.ERROR_SYNTAX, SyntaxError],
  [T.ERROR_TYPE, TypeError],
  [T.ERROR_URI, URIError],
]);

/** Sets a property the way V8's CreateDataProperty does, `__proto__` included. */
function define(o: Dict, key: string | number, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(o, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    o[key] = value;
  }
}

/** One deserialisation: the input cursor plus the table of objects by id. */
export class Reader extends ByteReader {
  /** Objects read so far, by id, for '^' back-references. */
  objects: unknown[] = [];
  /** Objects, arrays, Maps, Sets and Errors being read, one inside the other. */
  depth = 0;

  /** Goes one level deeper; fails past the writer's {@link MAX_DEPTH}. */
  enter(): void {
    if (++this.depth > MAX_DEPTH) fail();
  }

  /** Reads one value; a view record following an ArrayBuffer is read with it. */
  value(): unknown {
    const v = this.inner();
    // Like V8's ReadObject: any value that turns out to be an ArrayBuffer, a
    // back-reference included, may be followed by a view over it.
    if (v instanceof ArrayBuffer && this.peek() === T.ARRAY_BUFFER_VIEW) {
      this.pos++;
      return this.view(v);
    }
    return v;
  }

  /** Reads a value that must be a string (RegExp source, String object, messages). */
  string(): string {
    const s = this.value();
    return typeof s === "string" ? s : fail();
  }

  /** Reads the value a tag introduces. */
  inner(): unknown {
    switch (this.tag()) {
      case T.UNDEFINED:
        return undefined;
      case T.NULL:
        return null;
      case T.TRUE:
        return true;
      case T.FALSE:
        return false;
      case T.INT32:
        return this.int32();
      case T.UINT32:
        return this.varint();
      case T.DOUBLE:
        return this.double();
      case T.BIGINT:
        return this.bigint();
      case T.ONE_BYTE_STRING:
        return this.oneByte(this.varint());
      case T.TWO_BYTE_STRING:
        return this.twoByte(this.varint());
      case T.UTF8_STRING:
        return this.utf8(this.varint());
      case T.VERIFY_OBJECT_COUNT:
        this.varint();
        return this.value();
      case T.OBJECT_REFERENCE: {
        // An id whose object is still being built (an error inside its own
        // cause) is unknown to V8 as well: it registers errors once complete.
        const o = this.objects[this.varint()];
        return o === undefined ? fail() : o;
      }
      case T.BEGIN_OBJECT: {
        this.enter();
        const o: Dict = {};
        this.objects.push(o);
        const count = this.properties(o, T.END_OBJECT);
        if (this.varint() !== count) fail();
        this.depth--;
        return o;
      }
      case T.BEGIN_DENSE_ARRAY:
        return this.denseArray();
      case T.BEGIN_SPARSE_ARRAY:
        return this.sparseArray();
      case T.DATE:
        return this.add(new Date(this.double()));
      case T.TRUE_OBJECT:
        return this.add(Object(true));
      case T.FALSE_OBJECT:
        return this.add(Object(false));
      case T.NUMBER_OBJECT:
        return this.add(Object(this.double()));
      case T.BIGINT_OBJECT:
        return this.add(Object(this.bigint()));
      case T.STRING_OBJECT: {
        const id = this.reserve();
        return this.objects[id] = Object(this.string());
      }
      case T.REGEXP:
        return this.regexp();
      case T.BEGIN_MAP:
        return this.map();
      case T.BEGIN_SET:
        return this.set();
      case T.ARRAY_BUFFER: {
        const n = this.varint();
        const p = this.take(n);
        return this.add(this.b.slice(p, p + n).buffer);
      }
      case T.RESIZABLE_ARRAY_BUFFER:
        return this.resizableBuffer();
      case T.ERROR:
        return this.error();
      case T.HOST_OBJECT:
        return this.host();
    }
    // Shared objects, transfers, wasm: nothing kvq can rebuild.
    return fail();
  }

  /** Gives `o` the next id and returns it. */
  add<V>(o: V): V {
    this.objects.push(o);
    return o;
  }

  /** Takes the next id before the object exists (V8 numbers it at its tag). */
  reserve(): number {
    return this.objects.push(undefined) - 1;
  }

  /** Reads key/value pairs up to `end`; returns how many were read. */
  properties(o: Dict, end: number): number {
    let count = 0;
    while (this.peek() !== end) {
      const key = this.value();
      if (typeof key !== "string" && typeof key !== "number") fail();
      define(o, key, this.value());
      count++;
    }
    this.pos++;
    return count;
  }

  /** Reads 'A': length, that many values (or holes), extra properties, '$'. */
  denseArray(): unknown[] {
    this.enter();
    const n = this.varint();
    // Every element takes at least one byte: refuse lengths the input cannot hold.
    if (n > this.b.length - this.pos) fail();
    const a: unknown[] = new Array(n);
    this.objects.push(a);
    for (let i = 0; i < n; i++) {
      if (this.peek() === T.THE_HOLE) {
        this.pos++;
        continue;
      }
      a[i] = this.value();
    }
    const count = this.properties(a as unknown as Dict, T.END_DENSE_ARRAY);
    if (this.varint() !== count || this.varint() !== n) fail();
    this.depth--;
    return a;
  }

  /** Reads 'a': length, then index and named properties alike, '@'. */
  sparseArray(): unknown[] {
    this.enter();
    const n = this.varint();
    const a: unknown[] = new Array(n);
    this.objects.push(a);
    const count = this.properties(a as unknown as Dict, T.END_SPARSE_ARRAY);
    if (this.varint() !== count || this.varint() !== n) fail();
    this.depth--;
    return a;
  }

  /** Reads 'R': source, then V8's flag bits (unknown or 'l' bits are refused). */
  regexp(): RegExp {
    const id = this.reserve();
    const source = this.string();
    const bits = this.varint();
    if (bits >= 1 << T.REGEXP_FLAG_LETTERS.length || bits & 64) fail();
    let flags = "";
    for (let i = 0; i < T.REGEXP_FLAG_LETTERS.length; i++) {
      if (bits & (1 << i)) flags += T.REGEXP_FLAG_LETTERS[i];
    }
    return (this.objects[id] = new RegExp(source, flags)) as RegExp;
  }

  /** Reads ';' ... ':' count. */
  map(): Map<unknown, unknown> {
    this.enter();
    const m = this.add(new Map<unknown, unknown>());
    let count = 0;
    while (this.peek() !== T.END_MAP) {
      const k = this.value();
      m.set(k, this.value());
      count += 2;
    }
    this.pos++;
    if (this.varint() !== count) fail();
    this.depth--;
    return m;
  }

  /** Reads "'" ... ',' count. */
  set(): Set<unknown> {
    this.enter();
    const s = this.add(new Set<unknown>());
    let count = 0;
    while (this.peek() !== T.END_SET) {
      s.add(this.value());
      count++;
    }
    this.pos++;
    if (this.varint() !== count) fail();
    this.depth--;
    return s;
  }

  /** Reads '~': byte length, max byte length, bytes. */
  resizableBuffer(): ArrayBuffer {
    const n = this.varint();
    const max = this.varint();
    if (n > max) fail();
    const p = this.take(n);
    const Ctor = ArrayBuffer as unknown as new (
      n: number,
      o: { maxByteLength: number },
    ) => ArrayBuffer;
    const buffer = new Ctor(n, { maxByteLength: max });
    new Uint8Array(buffer).set(this.b.subarray(p, p + n));
    return this.add(buffer);
  }

  /** Reads a 'V' record over `buffer`: subtag, offset, length, flags (v14+). */
  view(buffer: ArrayBuffer): ArrayBufferView {
    const entry = VIEWS.get(this.varint() & 0xff) ?? fail();
    const offset = this.varint();
    const length = this.varint();
    const flags = this.version >= 14 ? this.varint() : 0;
    const id = this.reserve();
    const size = buffer.byteLength;
    if (offset > size || length > size - offset) fail();
    if (offset % entry[1] !== 0 || length % entry[1] !== 0) fail();
    const tracking = (flags & T.VIEW_LENGTH_TRACKING) !== 0;
    const rab = (flags & T.VIEW_BACKED_BY_RAB) !== 0;
    const resizable = (buffer as { resizable?: boolean }).resizable === true;
    // V8's ValidateJSArrayBufferViewFlags: the flags must agree with the buffer.
    if ((tracking || rab) && !resizable) fail();
    if (resizable && !rab) fail();
    const [Ctor, unit] = entry;
    const view = tracking
      ? new Ctor(buffer, offset)
      : new Ctor(buffer, offset, Ctor === DataView ? length : length / unit);
    this.objects[id] = view;
    return view;
  }

  /**
   * Reads '\\' as Deno writes it: 0xFFFFFFFF and a description, rebuilt by
   * the runtime's host codec (Node's own host objects, typed arrays written
   * by `v8.serialize`, are refused). The object's id comes first, as in V8.
   */
  host(): object {
    const id = this.reserve();
    if (this.varint() !== DESCRIBED) fail();
    const description = this.value();
    return (this.objects[id] = hosts.revive(description));
  }

  /** Reads 'r': prototype, message, stack and cause subtags up to '.'. */
  error(): Error {
    this.enter();
    const id = this.reserve();
    let Ctor: ErrorConstructor = Error;
    let message: string | undefined;
    let stack: string | undefined;
    let options: { cause: unknown } | undefined;
    for (;;) {
      const t = this.varint() & 0xff;
      if (t === T.ERROR_END) break;
      if (t === T.ERROR_MESSAGE) message = this.string();
      else if (t === T.ERROR_STACK) stack = this.string();
      else if (t === T.ERROR_CAUSE) options = { cause: this.value() };
      else Ctor = ERRORS.get(t) ?? fail();
    }
    // No stack is captured for the new error (V8 passes kDisabled): the stored one,
    // or none, replaces it.
    const E = Error as unknown as { stackTraceLimit: number };
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
    let e: Error;
    try {
      e = new Ctor(message, options);
    } finally {
      E.stackTraceLimit = limit;
    }
    e.stack = stack;
    this.objects[id] = e;
    this.depth--;
    return e;
  }
}
