/**
 * Errors kvq throws, shaped like Deno's: the same classes and messages, plus
 * a stable `code` on errors that come from the engine.
 *
 * @module
 */

/**
 * Deno's `Deno.errors.BadResource`, for runtimes that have no `Deno`: thrown
 * when a closed database is used. Name "BadResource", message
 * "Bad resource ID".
 */
export class BadResource extends Error {
  /** Creates the error; the message defaults to Deno's. */
  constructor(message = "Bad resource ID", options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, "name", {
      value: "BadResource",
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
}

/** The error classes the engine can ask for, by their wire number. */
export const ErrorClass = {
  Error: 0,
  TypeError: 1,
  RangeError: 2,
  BadResource: 3,
} as const;

/** A wire class number. */
export type ErrorClass = typeof ErrorClass[keyof typeof ErrorClass];

/**
 * The class used for {@link ErrorClass.BadResource}: Deno's own under Deno,
 * kvq's {@link BadResource} elsewhere.
 */
export function badResourceClass(): new (message?: string) => Error {
  const deno = (globalThis as { Deno?: { errors?: { BadResource?: unknown } } })
    .Deno;
  const native = deno?.errors?.BadResource;
  return typeof native === "function"
    ? native as new (message?: string) => Error
    : BadResource;
}

/** A new "Bad resource ID" error of the runtime's BadResource class. */
export function badResource(): Error {
  const Class = badResourceClass();
  return new Class("Bad resource ID");
}

/**
 * Builds the JavaScript error for an engine failure: the class Deno uses,
 * Deno's message, and the engine's `KVQ_*` code as a non-enumerable `code`.
 */
export function engineError(
  cls: number,
  code: string,
  message: string,
): Error {
  let error: Error;
  switch (cls) {
    case ErrorClass.TypeError:
      error = new TypeError(message);
      break;
    case ErrorClass.RangeError:
      error = new RangeError(message);
      break;
    case ErrorClass.BadResource:
      error = new (badResourceClass())(message);
      break;
    default:
      error = new Error(message);
  }
  Object.defineProperty(error, "code", {
    value: code,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return error;
}

/**
 * Deno's `Deno.errors.InvalidData` under Deno; elsewhere an `Error` named
 * "InvalidData". Thrown when stored key bytes do not decode.
 */
export function invalidData(message: string): Error {
  const deno = (globalThis as { Deno?: { errors?: { InvalidData?: unknown } } })
    .Deno;
  const native = deno?.errors?.InvalidData;
  if (typeof native === "function") {
    return new (native as new (message?: string) => Error)(message);
  }
  const error = new Error(message);
  Object.defineProperty(error, "name", {
    value: "InvalidData",
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return error;
}
