/**
 * Values V8 refuses to serialise, with the error Deno 2.9.6 raises for each
 * (spec section 2.4; checked against real Deno by deno_kv_test.ts).
 *
 * @module
 */

/** One refused value. */
export interface Unclonable {
  /** Unique, readable name. */
  name: string;
  /** Makes the value. */
  make: () => unknown;
  /** The class Deno throws. */
  cls: ErrorConstructor;
  /** The exact message Deno throws. */
  message: string;
  /** False where Node's V8 words it differently (Deno handles it itself). */
  node?: boolean;
}

const arrow = () => {};
const named = function named(): number {
  return 1;
};
class Klass {}
const source = (f: unknown) => Function.prototype.toString.call(f);
const EMPTY_WASM = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

function detached(): ArrayBuffer {
  const b = new ArrayBuffer(8);
  structuredClone(b, { transfer: [b] });
  return b;
}

function* generator(): Generator<number> {
  yield 1;
}

/** The refused values. */
export const UNCLONABLE: Unclonable[] = [
  {
    name: "arrow function",
    make: () => arrow,
    cls: TypeError,
    message: `${source(arrow)} could not be cloned.`,
  },
  {
    name: "function nested in an object",
    make: () => ({ ok: 1, f: named }),
    cls: TypeError,
    message: `${source(named)} could not be cloned.`,
  },
  {
    name: "class",
    make: () => [Klass],
    cls: TypeError,
    message: `${source(Klass)} could not be cloned.`,
  },
  {
    name: "symbol",
    make: () => Symbol("s"),
    cls: TypeError,
    message: "Symbol(s) could not be cloned.",
  },
  {
    name: "symbol in a map",
    make: () => new Map([[1, Symbol()]]),
    cls: TypeError,
    message: "Symbol() could not be cloned.",
  },
  {
    name: "symbol object",
    make: () => Object(Symbol("s")),
    cls: TypeError,
    message: "[object Symbol] could not be cloned.",
  },
  {
    name: "WeakMap",
    make: () => new WeakMap(),
    cls: TypeError,
    message: "#<WeakMap> could not be cloned.",
  },
  {
    name: "WeakSet",
    make: () => ({ s: new WeakSet() }),
    cls: TypeError,
    message: "#<WeakSet> could not be cloned.",
  },
  {
    name: "WeakRef",
    make: () => new WeakRef({}),
    cls: TypeError,
    message: "#<WeakRef> could not be cloned.",
  },
  {
    name: "WeakMap sub-class",
    make: () => new (class Cache extends WeakMap {})(),
    cls: TypeError,
    message: "#<Cache> could not be cloned.",
  },
  {
    name: "Promise",
    make: () => Promise.resolve(1),
    cls: TypeError,
    message: "#<Promise> could not be cloned.",
  },
  {
    name: "generator object",
    make: () => generator(),
    cls: TypeError,
    message: "[object Generator] could not be cloned.",
  },
  {
    name: "map iterator",
    make: () => new Map().keys(),
    cls: TypeError,
    message: "[object Map Iterator] could not be cloned.",
  },
  {
    name: "Intl.Collator",
    make: () => new Intl.Collator(),
    cls: TypeError,
    message: "#<Collator> could not be cloned.",
  },
  {
    name: "WebAssembly.Memory",
    make: () => new WebAssembly.Memory({ initial: 1 }),
    cls: TypeError,
    message: "#<Memory> could not be cloned.",
  },
  {
    name: "WebAssembly.Module",
    make: () => new WebAssembly.Module(EMPTY_WASM),
    cls: TypeError,
    message: "Wasm modules cannot be stored",
    node: false,
  },
  {
    name: "SharedArrayBuffer",
    make: () => new SharedArrayBuffer(4),
    cls: Error,
    message: "#<SharedArrayBuffer> could not be cloned.",
  },
  {
    name: "view over a SharedArrayBuffer",
    make: () => new Uint8Array(new SharedArrayBuffer(4)),
    cls: Error,
    message: "#<SharedArrayBuffer> could not be cloned.",
  },
  {
    name: "Proxy of a plain object",
    make: () => new Proxy({ a: 1 }, {}),
    cls: TypeError,
    message: "#<Object> could not be cloned.",
  },
  {
    name: "Proxy of an array, nested",
    make: () => ({ ok: 1, list: new Proxy([1, 2], {}) }),
    cls: TypeError,
    message: "[object Array] could not be cloned.",
  },
  {
    name: "Proxy of a Map",
    make: () => new Proxy(new Map(), {}),
    cls: TypeError,
    message: "#<Map> could not be cloned.",
  },
  {
    name: "Proxy of a Proxy",
    make: () => new Proxy(new Proxy({}, {}), {}),
    cls: TypeError,
    message: "#<Object> could not be cloned.",
  },
  {
    name: "detached ArrayBuffer",
    make: detached,
    cls: TypeError,
    message: "An ArrayBuffer is detached and could not be cloned.",
  },
  // Transferables: Deno's serializer delegate refuses to store them.
  {
    name: "ReadableStream",
    make: () => [new ReadableStream()],
    cls: TypeError,
    message: "Unsupported object type",
    node: false,
  },
  {
    name: "WritableStream",
    make: () => new WritableStream(),
    cls: TypeError,
    message: "Unsupported object type",
    node: false,
  },
  {
    name: "TransformStream",
    make: () => ({ t: new TransformStream() }),
    cls: TypeError,
    message: "Unsupported object type",
    node: false,
  },
  {
    name: "MessagePort",
    make: () => {
      const { port1, port2 } = new MessageChannel();
      port1.close();
      port2.close();
      return port1;
    },
    cls: TypeError,
    message: "Unsupported object type",
    node: false,
  },
];
