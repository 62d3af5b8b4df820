/**
 * Which V8 object kind a JS object is, decided without V8's instance types, and the
 * "could not be cloned" errors Deno 2.9.6 raises for the rest.
 *
 * @module
 */

import { denoCore, type Fn, getter, has } from "./brand.ts";
import { cloneError, describe } from "./clone_error.ts";
import { hosts } from "./host/mod.ts";

export { cloneError, describe } from "./clone_error.ts";

/** A plain object: written as 'o' ... '{'. Class instances are plain objects too. */
export const K_OBJECT = 0;
/** An Array (any subclass). */
export const K_ARRAY = 1;
/** A Date. */
export const K_DATE = 2;
/** A RegExp. */
export const K_REGEXP = 3;
/** A Map. */
export const K_MAP = 4;
/** A Set. */
export const K_SET = 5;
/** A (possibly resizable) ArrayBuffer. */
export const K_ARRAY_BUFFER = 6;
/** A typed array or DataView. */
export const K_VIEW = 7;
/** An Error object (one with V8's [[ErrorData]]). */
export const K_ERROR = 8;
/** new Boolean(x). */
export const K_BOOLEAN = 9;
/** new Number(x). */
export const K_NUMBER = 10;
/** new String(x). */
export const K_STRING = 11;
/** Object(bigint). */
export const K_BIGINT = 12;
/**
 * A host object (Blob, File, DOMException, CryptoKey, ...): written as V8
 * hands it to Deno's serializer delegate (see host/mod.ts).
 */
export const K_HOST = 13;

const objectToString = Object.prototype.toString as Fn;

// Brand checks: each succeeds (without throwing) only on objects that carry the
// internal slot, so Object.create(Map.prototype) is not taken for a Map.
const mapSize = getter(Map.prototype, "size");
const setSize = getter(Set.prototype, "size");
const dateValue = Date.prototype.getTime as Fn;
const regexpGlobal = getter(RegExp.prototype, "global");
const bufferLength = getter(ArrayBuffer.prototype, "byteLength");
const sabProto = typeof SharedArrayBuffer === "function"
  ? SharedArrayBuffer.prototype
  : undefined;
const sabLength = sabProto ? getter(sabProto, "byteLength") : undefined;
const booleanValue = Boolean.prototype.valueOf as Fn;
const numberValue = Number.prototype.valueOf as Fn;
const stringValue = String.prototype.valueOf as Fn;
const bigintValue = BigInt.prototype.valueOf as Fn;
const weakMapHas = WeakMap.prototype.has as Fn;
const weakSetHas = WeakSet.prototype.has as Fn;
const weakRefDeref = typeof WeakRef === "function"
  ? WeakRef.prototype.deref as Fn
  : undefined;
const isErrorNative =
  (Error as unknown as { isError?: (v: unknown) => boolean })
    .isError;

// Plain JavaScript cannot tell a Proxy from its target, and V8 refuses to
// clone one. Deno's core has the check (an internal door, so tried first
// and not relied on); Node, Bun and Deno all have node:util's, behind
// process.getBuiltinModule (loading it costs Deno tens of milliseconds,
// the core check nothing).
type IsProxy = (o: object) => boolean;
function findIsProxy(): IsProxy {
  const host = globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  const isProxy = denoCore?.isProxy;
  if (typeof isProxy === "function") return isProxy as IsProxy;
  try {
    const util = host.process?.getBuiltinModule?.("node:util") as
      | { types?: { isProxy?: unknown } }
      | undefined;
    const check = util?.types?.isProxy;
    if (typeof check === "function") return check as IsProxy;
  } catch {
    // No node:util here: proxies are written as their target reads.
  }
  return () => false;
}

/** Whether `o` is a Proxy (false on a runtime without a way to tell). */
export const isProxy: IsProxy = findIsProxy();

/**
 * Deno's TypeError for a Proxy: V8 describes the proxy's target, which a
 * description through the proxy matches unless its traps say otherwise.
 */
export function proxyError(o: object): TypeError {
  let what: string;
  try {
    what = describe(o);
  } catch {
    // A revoked proxy throws from every trap.
    what = "#<Object>";
  }
  return new TypeError(`${what} could not be cloned.`);
}

/** Whether `o` carries V8's [[ErrorData]] (Error.isError where the runtime has it). */
export function isError(o: object): boolean {
  return isErrorNative !== undefined
    ? isErrorNative(o)
    : objectToString.call(o) === "[object Error]";
}

// The kind each built-in prototype suggests; confirmed by a brand check before use.
const protoKinds = new Map<object, number>([
  [Date.prototype, K_DATE],
  [RegExp.prototype, K_REGEXP],
  [Map.prototype, K_MAP],
  [Set.prototype, K_SET],
  [ArrayBuffer.prototype, K_ARRAY_BUFFER],
  [Boolean.prototype, K_BOOLEAN],
  [Number.prototype, K_NUMBER],
  [String.prototype, K_STRING],
  [BigInt.prototype, K_BIGINT],
]);
for (
  const E of [
    Error,
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    EvalError,
    URIError,
  ]
) protoKinds.set(E.prototype, K_ERROR);

const BRANDED = [
  K_ERROR,
  K_DATE,
  K_REGEXP,
  K_MAP,
  K_SET,
  K_ARRAY_BUFFER,
  K_BOOLEAN,
  K_NUMBER,
  K_STRING,
  K_BIGINT,
];

function confirm(kind: number, o: object): boolean {
  switch (kind) {
    case K_DATE:
      return has(dateValue, o);
    case K_REGEXP:
      return has(regexpGlobal, o);
    case K_MAP:
      return has(mapSize, o);
    case K_SET:
      return has(setSize, o);
    case K_ARRAY_BUFFER:
      return has(bufferLength, o);
    case K_BOOLEAN:
      return has(booleanValue, o);
    case K_NUMBER:
      return has(numberValue, o);
    case K_STRING:
      return has(stringValue, o);
    case K_BIGINT:
      return has(bigintValue, o);
    case K_ERROR:
      return isError(o);
  }
  return false;
}

// Objects V8 refuses whose class cannot be brand-checked cheaply: recognised by the
// tag Object.prototype.toString reports for them.
const exoticTags = new Set([
  "[object Promise]",
  "[object Generator]",
  "[object AsyncGenerator]",
  "[object Array Iterator]",
  "[object Map Iterator]",
  "[object Set Iterator]",
  "[object String Iterator]",
  "[object RegExp String Iterator]",
  "[object Iterator Helper]",
  "[object Module]",
  "[object Arguments]",
  "[object FinalizationRegistry]",
  "[object WebAssembly.Memory]",
  "[object WebAssembly.Instance]",
  "[object WebAssembly.Table]",
  "[object WebAssembly.Global]",
]);

const MessagePortClass =
  (globalThis as { MessagePort?: abstract new () => object })
    .MessagePort;

// Transferable objects: Deno's delegate refuses them when storing, since
// their brand names a transfer rather than describing a value.
const UNSUPPORTED_TAGS = new Set([
  "[object ReadableStream]",
  "[object WritableStream]",
  "[object TransformStream]",
  "[object MessagePort]",
]);

/**
 * Classifies an object that is neither a plain object nor an array of this realm.
 * Throws Deno's error for objects V8 refuses to clone.
 */
export function classify(o: object, proto: object | null): number {
  if (Array.isArray(o)) return K_ARRAY;
  if (ArrayBuffer.isView(o)) return K_VIEW;
  const hinted = proto === null ? undefined : protoKinds.get(proto);
  if (hinted !== undefined) return confirm(hinted, o) ? hinted : K_OBJECT;
  const tag = objectToString.call(o) as string;
  // Before the Error check: Deno's (and Node's) DOMException passes
  // Error.isError, yet V8 hands it to the delegate as a host object.
  if (hosts.is(o, tag)) return K_HOST;
  // Ordinary objects (class instances included) report "[object Object]"; built-ins
  // and their sub-classes keep their own tag, so only those pay for brand checks.
  if (tag === "[object Object]") return K_OBJECT;
  for (const kind of BRANDED) {
    if (confirm(kind, o)) return kind;
  }
  if (has(sabLength, o)) {
    // Deno raises a plain Error here, not a TypeError [observed on Deno 2.9.6].
    throw new Error(`${describe(o)} could not be cloned.`);
  }
  if (tag === "[object Symbol]") throw cloneError(o);
  if (
    has(weakMapHas, o, o) || has(weakSetHas, o, o) || has(weakRefDeref, o) ||
    exoticTags.has(tag) || tag.startsWith("[object Intl.")
  ) throw cloneError(o);
  if (tag === "[object WebAssembly.Module]") {
    throw new TypeError("Wasm modules cannot be stored");
  }
  if (
    UNSUPPORTED_TAGS.has(tag) ||
    // Node's MessagePort reports itself as an EventTarget.
    (MessagePortClass !== undefined && o instanceof MessagePortClass)
  ) throw new TypeError("Unsupported object type");
  return K_OBJECT;
}

/** The error for a detached ArrayBuffer, worded as V8 words it. */
export function detachedError(): TypeError {
  return new TypeError("An ArrayBuffer is detached and could not be cloned.");
}
