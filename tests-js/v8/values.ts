/**
 * The value matrix every v8 codec test runs: each sample makes a fresh value and,
 * where a round trip changes it (class instances, getters, sub-classes), the value
 * that should come back.
 *
 * @module
 */

/** One value of the matrix. */
export interface Sample {
  /** Unique, readable name (also used as the KV key in the Deno oracle). */
  name: string;
  /** Makes the value (fresh each time: errors and buffers are mutable). */
  make: () => unknown;
  /** What a round trip must give for `value`; defaults to `value` itself. */
  expect?: (value: unknown) => unknown;
  /**
   * Why Deno 2.9.6's V8 (14.x, format 16) writes other, equally valid bytes: its
   * choice depends on how it holds the value internally. Node 24 and kvq agree.
   */
  denoBytesDiffer?: string;
}

const F16 = (globalThis as { Float16Array?: new (a: number[]) => unknown })
  .Float16Array;

class Point {
  x = 1;
  y = 2;
  get sum(): number {
    return this.x + this.y;
  }
}

// Shaped like Deno.KvU64: frozen, one own enumerable `value`, a custom tag.
class KvU64Like {
  readonly value: bigint;
  constructor(value: bigint) {
    this.value = value;
    Object.freeze(this);
  }
  get [Symbol.toStringTag](): string {
    return "Deno.KvU64";
  }
}

class MyRangeError extends RangeError {}

function err<E extends Error>(e: E, patch?: (e: E) => void): E {
  patch?.(e);
  return e;
}

function circular(): unknown {
  const o: Record<string, unknown> = { name: "root" };
  o.self = o;
  o.list = [o, { back: o }];
  return o;
}

function shared(): unknown {
  const leaf = { leaf: true };
  const buf = new ArrayBuffer(8);
  const u8 = new Uint8Array(buf, 2, 4);
  return {
    a: leaf,
    b: [leaf, leaf],
    buf,
    u8,
    again: u8,
    u16: new Uint16Array(buf),
  };
}

function rab(): ArrayBuffer {
  const Ctor = ArrayBuffer as unknown as new (
    n: number,
    o: { maxByteLength: number },
  ) => ArrayBuffer;
  const b = new Ctor(4, { maxByteLength: 16 });
  new Uint8Array(b).set([1, 2, 3, 4]);
  return b;
}

const plain = (v: unknown) => ({ ...(v as object) });

/** The matrix. */
export const SAMPLES: Sample[] = [
  { name: "undefined", make: () => undefined },
  { name: "null", make: () => null },
  { name: "true", make: () => true },
  { name: "false", make: () => false },
  // Separate lists: one -0 or fraction would make V8 hold the whole array as
  // doubles, and V8 writes a number held as a double with 'N' even if integral.
  ...[0, 1, -1, 42, 63, 64, -64, -65, 2 ** 30, 2 ** 31 - 1, -(2 ** 31)].map(
    (n) => ({ name: `int32 ${n}`, make: () => n }),
  ),
  ...[
    -0,
    2 ** 31,
    -(2 ** 31) - 1,
    1.5,
    -2.25,
    NaN,
    Infinity,
    -Infinity,
    2 ** 53,
    5e-324,
    1.7976931348623157e308,
  ]
    .map((n) => ({
      name: `double ${Object.is(n, -0) ? "-0" : n}`,
      make: () => n,
    })),
  ...[
    0n,
    1n,
    -1n,
    42n,
    -5n,
    2n ** 63n,
    2n ** 64n - 1n,
    2n ** 64n,
    -(2n ** 64n),
    2n ** 200n + 12345n,
  ]
    .map((n) => ({ name: `bigint ${n}`, make: () => n })),
  ...[
    "",
    "hello",
    "é",
    "ÿ",
    "😀",
    "\u0100",
    "\ud800",
    "a\u0000b",
    "é😀x",
    "ascii ".repeat(40),
    "é".repeat(300),
    "中文".repeat(200),
  ]
    .map((s, i) => ({
      name: `string #${i} ${JSON.stringify(s.slice(0, 8))}`,
      make: () => s,
    })),
  {
    name: "string 65530 ascii (the 64 KiB limit)",
    make: () => "x".repeat(65530),
  },
  { name: "object empty", make: () => ({}) },
  { name: "object {a:1}", make: () => ({ a: 1 }) },
  {
    name: "object nested",
    make: () => ({ a: { b: { c: [1, "two", { d: null }] } }, e: undefined }),
  },
  {
    name: "object index keys",
    make: () => ({ b: 1, 1: "a", 0: "z", 3000000000: 3, 4294967294: 4 }),
  },
  {
    name: "object non-index numeric keys",
    make: () => ({ "-0": 1, "01": 2, "4294967295": 3, "1.5": 4, "-1": 5 }),
  },
  {
    name: "object null prototype",
    make: () => Object.assign(Object.create(null), { a: 1 }),
    expect: plain,
  },
  {
    name: "object own __proto__ key",
    make: () => JSON.parse('{"__proto__": {"x": 1}, "y": 2}'),
  },
  { name: "object two-byte padding (odd)", make: () => ({ a: "\u0100" }) },
  { name: "object two-byte padding (even)", make: () => ({ ab: "\u0100" }) },
  {
    name: "object symbol and non-enumerable keys skipped",
    make: () =>
      Object.defineProperty({ a: 1, [Symbol("s")]: 2 }, "hidden", { value: 3 }),
    expect: () => ({ a: 1 }),
  },
  {
    name: "object getter invoked",
    make: () => ({
      get g() {
        return 7;
      },
    }),
    expect: () => ({ g: 7 }),
  },
  {
    name: "class instance becomes plain",
    make: () => new Point(),
    expect: () => ({ x: 1, y: 2 }),
  },
  {
    name: "KvU64-like nested",
    make: () => ({ n: new KvU64Like(5n) }),
    expect: () => ({ n: { value: 5n } }),
  },
  { name: "array empty", make: () => [] },
  { name: "array [1,2]", make: () => [1, 2] },
  { name: "array holey [1,,3]", make: () => [1, , 3] },
  { name: "array trailing hole", make: () => [1, ,] },
  {
    name: "array [undefined]",
    make: () => [undefined],
    denoBytesDiffer:
      "V8 14 holds number-or-undefined arrays as holey doubles and writes them sparsely",
  },
  { name: "array doubles [1.5,2]", make: () => [1.5, 2] },
  { name: "array [NaN,-0,1]", make: () => [NaN, -0, 1] },
  { name: "array mixed", make: () => ["a", 1.5, 2, null, true, { o: 1 }, [2]] },
  { name: "array extra property", make: () => Object.assign([1, 2], { x: 1 }) },
  {
    name: "array frozen",
    make: () => Object.freeze([1.5, "a"]),
    expect: () => [1.5, "a"],
  },
  { name: "array sealed", make: () => Object.seal([1]), expect: () => [1] },
  {
    name: "array holes and property",
    make: () => Object.assign([1, , 3], { tag: "t" }),
  },
  {
    name: "array sparse large",
    make: () => {
      const a: number[] = [];
      a[100] = 1;
      a[2 ** 31] = 2;
      return a;
    },
  },
  {
    name: "array of 1000 ints",
    make: () => Array.from({ length: 1000 }, (_, i) => i * 7 - 500),
  },
  { name: "map empty", make: () => new Map() },
  { name: "map [[k,1]]", make: () => new Map([["k", 1]]) },
  {
    name: "map object keys",
    make: () =>
      new Map<unknown, unknown>([[{ k: 1 }, [1]], [NaN, "nan"], [
        1n,
        new Map([[1, 2]]),
      ]]),
  },
  { name: "set empty", make: () => new Set() },
  { name: "set mixed", make: () => new Set([1, "a", {}, [1], -0]) },
  {
    name: "map sub-class",
    make: () => new (class M extends Map<number, number> {})([[1, 2]]),
    expect: () => new Map([[1, 2]]),
  },
  { name: "date 1", make: () => new Date(1) },
  { name: "date invalid", make: () => new Date(NaN) },
  { name: "date negative", make: () => new Date(-1e12) },
  { name: "regexp /x/gi", make: () => /x/gi },
  { name: "regexp all flags", make: () => /a\/b/dgimsuy },
  {
    name: "regexp v flag",
    // deno-lint-ignore no-invalid-regexp -- the linter does not know set notation
    make: () => new RegExp("[\\p{L}--[a-z]]", "v"),
  },
  { name: "regexp empty", make: () => new RegExp("") },
  { name: "boxed string", make: () => new String("s") },
  { name: "boxed two-byte string", make: () => new String("😀") },
  { name: "boxed number", make: () => new Number(3) },
  { name: "boxed -0", make: () => new Number(-0) },
  { name: "boxed true", make: () => new Boolean(true) },
  { name: "boxed false", make: () => new Boolean(false) },
  { name: "boxed bigint", make: () => Object(5n) },
  { name: "arraybuffer empty", make: () => new ArrayBuffer(0) },
  { name: "arraybuffer bytes", make: () => new Uint8Array([1, 2, 250]).buffer },
  { name: "arraybuffer resizable", make: rab },
  { name: "uint8array [1,2]", make: () => new Uint8Array([1, 2]) },
  {
    name: "uint8array subarray",
    make: () => new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9, 8, 7]).subarray(8),
  },
  { name: "int8array", make: () => new Int8Array([-1, 2]) },
  { name: "uint8clampedarray", make: () => new Uint8ClampedArray([0, 255]) },
  { name: "int16array", make: () => new Int16Array([-300, 300]) },
  { name: "uint16array", make: () => new Uint16Array([65535]) },
  { name: "int32array", make: () => new Int32Array([1]) },
  { name: "uint32array", make: () => new Uint32Array([4294967295]) },
  { name: "float32array", make: () => new Float32Array([1.5, -0]) },
  { name: "float64array", make: () => new Float64Array([Math.PI, NaN]) },
  { name: "bigint64array", make: () => new BigInt64Array([-1n]) },
  { name: "biguint64array", make: () => new BigUint64Array([2n ** 64n - 1n]) },
  ...(F16 ? [{ name: "float16array", make: () => new F16([1.5, -2]) }] : []),
  {
    name: "dataview window",
    make: () => new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2),
  },
  { name: "view over resizable buffer", make: () => new Int8Array(rab()) },
  { name: "views sharing a buffer", make: shared },
  { name: "error", make: () => new Error("boom") },
  {
    name: "error with cause",
    make: () => new Error("boom", { cause: { why: [1] } }),
  },
  { name: "error without message", make: () => new Error() },
  {
    name: "error without stack",
    make: () =>
      err(new Error("m"), (e) => {
        e.stack = undefined;
      }),
  },
  ...[TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]
    .map((E) => ({
      name: `error ${E.name}`,
      make: () => new E("typed"),
    })),
  {
    name: "error sub-class keeps its base",
    make: () => new MyRangeError("q"),
    expect: (v: unknown) =>
      err(new RangeError("q"), (e) => {
        e.stack = (v as Error).stack;
      }),
  },
  {
    name: "error custom name is an Error",
    make: () =>
      err(new Error("x"), (e) => {
        e.name = "Custom";
      }),
    expect: (v: unknown) =>
      err(new Error("x"), (e) => {
        e.stack = (v as Error).stack;
      }),
  },
  {
    name: "errors nested",
    make: () => ({ list: [new TypeError("a", { cause: new Error("b") })] }),
  },
  {
    name: "shared references",
    make: () => {
      const o = { v: 1 };
      return [o, o, { o }];
    },
  },
  { name: "circular object", make: circular },
  {
    name: "circular array",
    make: () => {
      const a: unknown[] = [1];
      a.push(a);
      return a;
    },
  },
  {
    name: "circular map and set",
    make: () => {
      const m = new Map<unknown, unknown>();
      const s = new Set<unknown>([m]);
      m.set("s", s);
      m.set(m, m);
      return m;
    },
  },
];
