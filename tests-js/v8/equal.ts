/**
 * Deep structural equality for structured-clone values, strict enough to tell a
 * codec's mistakes apart: -0 from 0, holes from undefined, a shared object from two
 * copies, prototypes, key order, typed-array kinds and their whole buffers.
 *
 * @module
 */

const toString = Object.prototype.toString;
const hasOwn = Object.prototype.hasOwnProperty;
const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;

type Dict = Record<string, unknown>;

/**
 * Compares `actual` with `expected`.
 *
 * @returns null when equal, else a description of the first difference and where.
 */
export function difference(actual: unknown, expected: unknown): string | null {
  return new Comparison().diff(actual, expected, "value");
}

/** Whether `actual` and `expected` are deeply equal (see {@link difference}). */
export function equal(actual: unknown, expected: unknown): boolean {
  return difference(actual, expected) === null;
}

function show(v: unknown): string {
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "string") return JSON.stringify(v.slice(0, 40));
  if (Object.is(v, -0)) return "-0";
  if (typeof v === "object" && v !== null) return toString.call(v);
  return String(v);
}

class Comparison {
  // Pairs already matched, both ways: cycles terminate and sharing must agree.
  forward = new Map<object, object>();
  backward = new Map<object, object>();

  diff(a: unknown, e: unknown, at: string): string | null {
    if (
      typeof a !== "object" || a === null || typeof e !== "object" || e === null
    ) {
      return Object.is(a, e)
        ? null
        : `${at}: got ${show(a)}, expected ${show(e)}`;
    }
    const seen = this.forward.get(a);
    if (seen !== undefined || this.backward.has(e)) {
      return seen === e ? null : `${at}: object sharing differs`;
    }
    this.forward.set(a, e);
    this.backward.set(e, a);
    const tag = toString.call(a);
    if (tag !== toString.call(e)) {
      return `${at}: got ${tag}, expected ${toString.call(e)}`;
    }
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(e)) {
      return `${at}: prototypes differ`;
    }
    return this.kind(a, e, at, tag);
  }

  kind(a: object, e: object, at: string, tag: string): string | null {
    if (Array.isArray(a)) return this.array(a, e as unknown[], at);
    if (ArrayBuffer.isView(a)) return this.view(a, e as ArrayBufferView, at);
    if (a instanceof ArrayBuffer) return buffer(a, e as ArrayBuffer, at);
    if (a instanceof Map) return this.map(a, e as Map<unknown, unknown>, at);
    if (a instanceof Set) {
      return this.list([...a], [...(e as Set<unknown>)], at);
    }
    if (a instanceof Error) return this.error(a, e as Error, at);
    if (a instanceof RegExp) {
      const r = e as RegExp;
      return a.source === r.source && a.flags === r.flags
        ? null
        : `${at}: got ${a}, expected ${r}`;
    }
    if (tag === "[object Date]" || a instanceof Date) {
      return this.diff(
        (a as Date).getTime(),
        (e as Date).getTime(),
        `${at}.time`,
      );
    }
    if (
      a instanceof Number || a instanceof String || a instanceof Boolean ||
      tag === "[object BigInt]"
    ) {
      const d = this.diff(a.valueOf(), e.valueOf(), `${at}.valueOf()`);
      if (d !== null) return d;
    }
    return this.keys(a as Dict, e as Dict, at, Object.keys(a), Object.keys(e));
  }

  keys(
    a: Dict,
    e: Dict,
    at: string,
    ka: string[],
    ke: string[],
  ): string | null {
    if (ka.join("\0") !== ke.join("\0")) {
      return `${at}: keys [${ka}] differ from expected [${ke}]`;
    }
    for (const k of ka) {
      const d = this.diff(a[k], e[k], `${at}.${k}`);
      if (d !== null) return d;
    }
    return null;
  }

  array(a: unknown[], e: unknown[], at: string): string | null {
    if (a.length !== e.length) {
      return `${at}: length ${a.length}, expected ${e.length}`;
    }
    // Object.keys lists the indices present, so holes must match too.
    return this.keys(
      a as unknown as Dict,
      e as unknown as Dict,
      at,
      Object.keys(a),
      Object.keys(e),
    );
  }

  list(a: unknown[], e: unknown[], at: string): string | null {
    if (a.length !== e.length) {
      return `${at}: size ${a.length}, expected ${e.length}`;
    }
    for (let i = 0; i < a.length; i++) {
      const d = this.diff(a[i], e[i], `${at}[#${i}]`);
      if (d !== null) return d;
    }
    return null;
  }

  map(
    a: Map<unknown, unknown>,
    e: Map<unknown, unknown>,
    at: string,
  ): string | null {
    return this.list([...a].flat(), [...e].flat(), `${at}(entries)`);
  }

  view(a: ArrayBufferView, e: ArrayBufferView, at: string): string | null {
    const ta = typedArrayTag.call(a) ?? "DataView";
    const te = typedArrayTag.call(e) ?? "DataView";
    if (ta !== te) return `${at}: got ${ta}, expected ${te}`;
    if (a.byteOffset !== e.byteOffset || a.byteLength !== e.byteLength) {
      return `${at}: window ${a.byteOffset}+${a.byteLength}, expected ${e.byteOffset}+${e.byteLength}`;
    }
    return this.diff(a.buffer, e.buffer, `${at}.buffer`);
  }

  error(a: Error, e: Error, at: string): string | null {
    for (const key of ["message", "cause"]) {
      if (hasOwn.call(a, key) !== hasOwn.call(e, key)) {
        return `${at}: own ${key} differs`;
      }
    }
    return this.diff(a.name, e.name, `${at}.name`) ??
      this.diff(a.message, e.message, `${at}.message`) ??
      this.diff(a.stack, e.stack, `${at}.stack`) ??
      this.diff(a.cause, e.cause, `${at}.cause`);
  }
}

function buffer(a: ArrayBuffer, e: ArrayBuffer, at: string): string | null {
  type Rab = ArrayBuffer & { resizable?: boolean; maxByteLength?: number };
  const ra = a as Rab;
  const re = e as Rab;
  if (a.byteLength !== e.byteLength || !!ra.resizable !== !!re.resizable) {
    return `${at}: buffer size or resizability differs`;
  }
  if (ra.resizable && ra.maxByteLength !== re.maxByteLength) {
    return `${at}: maxByteLength differs`;
  }
  const x = new Uint8Array(a);
  const y = new Uint8Array(e);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i]) return `${at}: byte ${i} is ${x[i]}, expected ${y[i]}`;
  }
  return null;
}
