/**
 * Brand checks without V8's instance types: a built-in accessor or method
 * that succeeds only on objects carrying the internal slot it reads, so an
 * object merely inheriting the prototype (`Object.create(Map.prototype)`)
 * is not taken for one. Also the door to Deno's core, where kvq can reach
 * it.
 *
 * @module
 */

/** A built-in method or accessor, called with an explicit receiver. */
export type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** The getter of accessor `key` on `proto` (which must have one). */
export function getter(proto: object, key: PropertyKey): Fn {
  return Object.getOwnPropertyDescriptor(proto, key)!.get as Fn;
}

/** Whether `check` runs on `o` (with `arg`) without throwing. */
export function has(check: Fn | undefined, o: object, arg?: unknown): boolean {
  if (check === undefined) return false;
  try {
    check.call(o, arg);
    return true;
  } catch {
    return false;
  }
}

/** The parts of Deno's core kvq may use; each is optional. */
export interface DenoCore {
  /** Whether a value is a Proxy. */
  isProxy?: unknown;
  /** The registry of host-object deserializers, by description type. */
  getCloneableDeserializers?: unknown;
}

/**
 * Deno's core (`Deno[Deno.internal].core`) when kvq runs under a Deno that
 * exposes it; undefined elsewhere. An internal door: every use checks what
 * it finds and has a portable fallback.
 */
export const denoCore: DenoCore | undefined = findDenoCore();

function findDenoCore(): DenoCore | undefined {
  const deno = (globalThis as { Deno?: Record<PropertyKey, unknown> }).Deno;
  const internal = deno?.internal;
  if (deno === undefined || typeof internal !== "symbol") return undefined;
  const door = deno[internal] as { core?: unknown } | undefined;
  const core = door?.core;
  return typeof core === "object" && core !== null
    ? core as DenoCore
    : undefined;
}
