/**
 * Whose fault an error of a store operation is: the caller's (a bad
 * argument, a value over one of Deno's limits) or the store's. The HTTP
 * handler (http/enqueue.ts) answers 4xx or 5xx by it; the `kvq` command
 * (cli/main.ts) exits with 2, a usage error, on {@link isArgumentError}.
 *
 * The engine raises most of its failures as a TypeError, as Deno does,
 * with a `KVQ_*` code (crates/kvq-core/src/error.rs), and so does kvq's
 * TypeScript for a stored value it cannot decode: a TypeError is
 * therefore a bad argument only when it has no code.
 *
 * @module
 */

/**
 * Engine codes for a key, value or operation over one of Deno's limits:
 * what the caller sent is too large, the store is fine.
 */
const LIMIT_CODES: ReadonlySet<string> = new Set([
  "KVQ_KEY_TOO_LARGE",
  "KVQ_VALUE_TOO_LARGE",
  "KVQ_LIMIT_EXCEEDED",
  "KVQ_INVALID_EXPIRY",
]);

/** The engine's `KVQ_*` code of `error`, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Whether `error` is a bad argument kvq refused before the store was
 * asked (a queue name, an option, a payload over Deno's limit, a value
 * nested too deep to serialize): a TypeError or RangeError without a
 * code. One with a code is the store's (KVQ_SQLITE, KVQ_READ_ONLY, a
 * stored value that does not decode, …): the operation failed.
 */
export function isArgumentError(error: unknown): boolean {
  return (error instanceof TypeError || error instanceof RangeError) &&
    errorCode(error) === undefined;
}

/**
 * Whether `error` is the caller's fault: a bad argument
 * ({@link isArgumentError}) or an engine error for a key, value or
 * operation over one of Deno's limits.
 */
export function isCallerError(error: unknown): boolean {
  if (isArgumentError(error)) return true;
  const code = errorCode(error);
  return code !== undefined && LIMIT_CODES.has(code);
}

/**
 * Whether `error` says the store is closed: BadResource (Deno's class or
 * kvq's), or the engine's KVQ_CLOSED.
 */
export function isClosedError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "BadResource" || errorCode(error) === "KVQ_CLOSED");
}
