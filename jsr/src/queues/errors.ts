/**
 * The errors named queues raise in handlers' signals and dispatch.
 *
 * @module
 */

/**
 * The reason of a handler's `signal` when its attempt ran past the
 * queue's `timeoutMs`; the attempt counts as failed with this error.
 */
export class QueueTimeoutError extends Error {
  /** The queue's name. */
  readonly queue: string;
  /** The message id. */
  readonly id: string;
  /** The timeout that passed, in ms. */
  readonly timeoutMs: number;

  /** The timeout of message `id` of `queue` after `timeoutMs`. */
  constructor(queue: string, id: string, timeoutMs: number) {
    super(
      `queue "${queue}": message ${id} timed out after ${timeoutMs} ms`,
    );
    this.name = "QueueTimeoutError";
    this.queue = queue;
    this.id = id;
    this.timeoutMs = timeoutMs;
  }
}

/** A message's text for a dead letter or a log line. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.name === "Error" || error.message.startsWith(error.name)
      ? error.message
      : `${error.name}: ${error.message}`;
  }
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
