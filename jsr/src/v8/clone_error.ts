/**
 * The errors V8 raises for values it refuses to clone, worded as V8 words
 * them (Deno passes them through as TypeErrors).
 *
 * @module
 */

const objectToString = Object.prototype.toString as (this: unknown) => string;
const functionToString = Function.prototype.toString as (
  this: unknown,
) => string;
const getOwn = Object.getOwnPropertyDescriptor;

/** Deno's TypeError for a value V8 refuses: "<description> could not be cloned." */
export function cloneError(value: unknown): TypeError {
  return new TypeError(`${describe(value)} could not be cloned.`);
}

// A data property found along the prototype chain, without running getters or proxy
// traps' side effects beyond getOwnPropertyDescriptor (V8's GetDataProperty).
function dataProperty(o: object, key: PropertyKey): unknown {
  for (let p: object | null = o; p !== null; p = Object.getPrototypeOf(p)) {
    const d = getOwn(p, key);
    if (d !== undefined) return "value" in d ? d.value : undefined;
  }
  return undefined;
}

/** V8's side-effect-free description of a value (Object::NoSideEffectsToString). */
export function describe(value: unknown): string {
  if (typeof value === "function") return functionToString.call(value);
  if (typeof value !== "object" || value === null) return String(value);
  if (dataProperty(value, "toString") === Object.prototype.toString) {
    const ctor = dataProperty(value, "constructor");
    if (typeof ctor === "function") {
      const name = dataProperty(ctor, "name");
      if (typeof name === "string" && name !== "") return `#<${name}>`;
    }
  }
  const tag = dataProperty(value, Symbol.toStringTag);
  if (typeof tag === "string") return `[object ${tag}]`;
  return objectToString.call(value);
}
