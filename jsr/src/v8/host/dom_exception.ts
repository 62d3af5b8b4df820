/**
 * DOMException, as Deno stores it: `{ type: "DOMException", message, name,
 * stack }`, where `stack` is whatever the object's `stack` holds (Bun keeps
 * none: undefined). Rebuilt as `new DOMException(message, name)` with the
 * stored stack, if any, as an own non-enumerable data property, as Deno's
 * deserializer does.
 *
 * @module
 */

import { type Fn, getter, has } from "../brand.ts";

type Ctor = new (message?: string, name?: string) => object;
const DOMEx = (globalThis as { DOMException?: Ctor }).DOMException;
const nameOf: Fn | undefined = DOMEx && getter(DOMEx.prototype, "name");
const messageOf: Fn | undefined = DOMEx && getter(DOMEx.prototype, "message");

/** Whether `o` is a DOMException (its own brand, not its prototype). */
export function isDOMException(o: object): boolean {
  return has(nameOf, o);
}

/** Deno's description of a DOMException. */
export function describeDOMException(o: object): Record<string, unknown> {
  return {
    type: "DOMException",
    message: messageOf!.call(o),
    name: nameOf!.call(o),
    stack: (o as { stack?: unknown }).stack,
  };
}

/** The DOMException a description stands for. */
export function reviveDOMException(d: Record<string, unknown>): object {
  const e = new DOMEx!(d.message as string, d.name as string);
  if (d.stack !== undefined) {
    Object.defineProperty(e, "stack", {
      value: d.stack,
      configurable: true,
      writable: true,
      enumerable: false,
    });
  }
  return e;
}
