/**
 * Typed dispatch: messages shaped `{ type, data }` (the shape of danet's
 * KvQueue and denokv-on-the-fly) handed to one handler per type. A message
 * of a type with no handler fails with a TypeError naming it, and follows
 * the retry policy like any failure.
 *
 * @module
 */

/** A message of typed dispatch: danet's `{ type, data }`. */
export interface TypedMessage<D = unknown> {
  /** The message type, which picks the handler. */
  type: string;
  /** The message data, passed to the handler. */
  data: D;
}

/**
 * One handler per message type: `handlers[type](data, info)`. `info` is
 * the delivery's metadata on a named queue, undefined on Deno's
 * `listenQueue`.
 */
export type TypedHandlers<I = unknown> = Record<
  string,
  // deno-lint-ignore no-explicit-any
  (data: any, info: I) => unknown
>;

/** Whether `value` has the `{ type, data }` shape. */
export function isTypedMessage(value: unknown): value is TypedMessage {
  return typeof value === "object" && value !== null &&
    typeof (value as { type?: unknown }).type === "string";
}

/**
 * Calls the handler of `message`'s type: throws a TypeError for a value
 * that is not a `{ type, data }` message or a type without a handler.
 */
export function dispatchTyped<I>(
  handlers: TypedHandlers<I>,
  message: unknown,
  info: I,
  where: string,
): unknown {
  if (!isTypedMessage(message)) {
    throw new TypeError(
      `${where}: the message is not a { type, data } message, so no handler can take it`,
    );
  }
  const handler = Object.hasOwn(handlers, message.type)
    ? handlers[message.type]
    : undefined;
  if (typeof handler !== "function") {
    throw new TypeError(
      `${where}: no handler for message type ${
        JSON.stringify(message.type)
      } (handlers: ${
        Object.keys(handlers).map((k) => JSON.stringify(k)).join(", ") || "none"
      })`,
    );
  }
  return handler(message.data, info);
}

/**
 * A `listenQueue` handler that dispatches `{ type, data }` messages by
 * type: for Deno's own queue (`kv.listenQueue(typed({...}))`), where
 * danet's KvQueue leaves its messages, so an app moves to kvq without
 * draining. Unknown types throw, so Deno retries them along the message's
 * backoff schedule.
 *
 * ```ts
 * kv.listenQueue(typed({
 *   "order.created": async (order) => await ship(order),
 * }));
 * ```
 */
export function typed(
  handlers: TypedHandlers<undefined>,
): (message: unknown) => unknown {
  checkHandlers("typed", handlers);
  return (message) =>
    dispatchTyped(handlers, message, undefined, "typed dispatch");
}

/** Checks a handler table; TypeError naming the bad entry. */
export function checkHandlers(where: string, handlers: unknown): void {
  if (
    handlers === null || typeof handlers !== "object" || Array.isArray(handlers)
  ) {
    throw new TypeError(
      `${where}: handlers must be an object of functions by message type`,
    );
  }
  for (const [type, f] of Object.entries(handlers)) {
    if (typeof f !== "function") {
      throw new TypeError(
        `${where}: the handler of type ${
          JSON.stringify(type)
        } must be a function`,
      );
    }
  }
}
