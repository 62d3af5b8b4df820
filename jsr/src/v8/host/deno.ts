/**
 * Host objects under Deno, through Deno's own machinery: an object is a host
 * object when it has the `Deno.core.hostObject` brand; a function brand
 * returns its description, anything else is a transferable Deno refuses to
 * store; descriptions are rebuilt by core's cloneable deserializers.
 *
 * @module
 */

import { denoCore } from "../brand.ts";
import type { HostCodec } from "./mod.ts";

const BRAND = Symbol.for("Deno.core.hostObject");

type Deserializer = (description: unknown) => object;

/** Deno's host codec, or undefined where Deno's core is out of reach. */
export function denoHosts(): HostCodec | undefined {
  const get = denoCore?.getCloneableDeserializers;
  if (typeof get !== "function") return undefined;
  const deserializers = get.call(denoCore) as Record<string, unknown> | null;
  if (typeof deserializers !== "object" || deserializers === null) {
    return undefined;
  }
  return {
    is: (o) => BRAND in o,
    describe(o) {
      const brand = (o as Record<symbol, unknown>)[BRAND];
      if (typeof brand !== "function") {
        throw new TypeError("Unsupported object type");
      }
      return brand.call(o);
    },
    revive(description) {
      // Deno 2.9.6 panics on an unknown type; kvq refuses the value instead.
      const type = typeof description === "object" && description !== null
        ? (description as { type?: unknown }).type
        : undefined;
      const revive =
        typeof type === "string" && Object.hasOwn(deserializers, type)
          ? deserializers[type] as Deserializer
          : undefined;
      if (typeof revive !== "function") {
        throw new TypeError(`Unknown host object type: ${String(type)}`);
      }
      return revive(description);
    },
  };
}
