/**
 * HTTP enqueue (as queue-run offers it): a web-standard handler
 * `(Request) => Promise<Response>` that enqueues the request's body on a
 * named queue. It runs under `Deno.serve`, `Bun.serve`, and Node's http
 * server through {@link nodeHandler} (node.ts).
 *
 * @module
 */

import type { QueueEnqueueOptions } from "../queues/options.ts";
import type { QueueEnqueueResult } from "../queues/enqueue.ts";
import { isCallerError, isClosedError } from "../fault.ts";

/** The part of a named queue the handler uses. */
export interface EnqueueTarget {
  /** The queue's name (for messages). */
  readonly name: string;
  /** Enqueues a value. */
  enqueue(
    value: never,
    options?: QueueEnqueueOptions,
  ): Promise<QueueEnqueueResult>;
  /** Enqueues a typed message `{ type, data }`. */
  send(
    type: string,
    data?: unknown,
    options?: QueueEnqueueOptions,
  ): Promise<QueueEnqueueResult>;
}

/** Options of {@link httpEnqueue}. */
export interface HttpEnqueueOptions {
  /**
   * The largest body accepted, in bytes (1 to 67108864); a larger one
   * gets 413. Default 65536, Deno's payload limit.
   */
  maxBodyBytes?: number;
}

/** A JSON error answer. */
function fail(status: number, message: string, extra?: HeadersInit): Response {
  return new Response(JSON.stringify({ error: message }) + "\n", {
    status,
    headers: { "content-type": "application/json", ...extra },
  });
}

/** An error with the HTTP status it answers with. */
class HttpError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A request field from its header, else its query parameter. */
function field(req: Request, url: URL, header: string, query: string) {
  return req.headers.get(header) ?? url.searchParams.get(query) ?? undefined;
}

async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > max) {
    throw new HttpError(413, `the body is over ${max} bytes`);
  }
  if (req.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      // The client went away (or sent a broken body) before its end.
      throw new HttpError(400, "the body could not be read to its end");
    }
    const { done, value } = next;
    if (done) break;
    size += value.length;
    if (size > max) {
      reader.cancel().catch(() => {});
      throw new HttpError(413, `the body is over ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "the body is not valid UTF-8");
  }
}

function formObject(entries: Iterable<[string, unknown]>) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    if (typeof v !== "string") {
      throw new HttpError(
        415,
        `form field "${k}" is a file: files are not accepted`,
      );
    }
    const prev = out[k];
    out[k] = prev === undefined
      ? v
      : Array.isArray(prev)
      ? [...prev, v]
      : [prev, v];
  }
  return out;
}

/** The message of a request's body, by its content type. */
async function bodyValue(req: Request, max: number): Promise<unknown> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim()
    .toLowerCase();
  if (type === "multipart/form-data") {
    const bytes = await readBody(req, max);
    let form: FormData;
    try {
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": req.headers.get("content-type")! },
      }).formData();
    } catch {
      throw new HttpError(400, "the body is not valid multipart/form-data");
    }
    const fields: [string, unknown][] = [];
    form.forEach((value, name) => fields.push([name, value]));
    return formObject(fields);
  }
  const bytes = await readBody(req, max);
  if (bytes.length === 0) throw new HttpError(400, "the request has no body");
  const text = decodeText(bytes);
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new HttpError(
        400,
        `the body is not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  if (type === "application/x-www-form-urlencoded") {
    return formObject(new URLSearchParams(text).entries());
  }
  if (type === "" || type.startsWith("text/")) return text;
  throw new HttpError(
    415,
    `content type ${type} is not accepted: send application/json, application/x-www-form-urlencoded, multipart/form-data or text/*`,
  );
}

/**
 * A web-standard handler that enqueues each POSTed body on `queue` and
 * answers 202 with the message id in `X-Job-Id` (and in the JSON body
 * `{ id, duplicate }`).
 *
 * - Bodies: `application/json` (and `*+json`) is parsed; form bodies
 *   (`application/x-www-form-urlencoded`, `multipart/form-data`, without
 *   files) become an object of strings (a repeated field: an array);
 *   `text/*` or no content type: the text.
 * - From headers, else the query string: `X-Group-Id` / `?group=` (the
 *   ordering group), `X-Dedup-Id` / `?dedupId=` (the dedup id),
 *   `X-Delay` / `?delay=` (ms), `X-Message-Type` / `?type=` (sends the
 *   typed message `{ type, data: body }`).
 * - Answers: 202 (also for a duplicate: `duplicate: true`, the first
 *   id); 400 for a bad body or field; 405 for a method other than POST;
 *   413 for a body over `maxBodyBytes`; 415 for another content type;
 *   500 when the store fails (logged with `console.error`; the answer
 *   says only that it failed); 503 when the store is closed. Errors are
 *   JSON `{ error }`. It never throws.
 *
 * ```ts
 * const jobs = kv.queue("jobs");
 * Deno.serve({ port: 8000 }, httpEnqueue(jobs));
 * ```
 */
export function httpEnqueue(
  queue: EnqueueTarget,
  options?: HttpEnqueueOptions,
): (req: Request) => Promise<Response> {
  if (
    queue === null || typeof queue !== "object" ||
    typeof queue.enqueue !== "function"
  ) {
    throw new TypeError("httpEnqueue: queue must be a named queue");
  }
  const o = (options ?? {}) as HttpEnqueueOptions;
  if (typeof o !== "object") {
    throw new TypeError("httpEnqueue: options must be an object");
  }
  const max = o.maxBodyBytes ?? 65536;
  if (!Number.isInteger(max) || max < 1 || max > 67_108_864) {
    throw new TypeError(
      `httpEnqueue: maxBodyBytes must be an integer from 1 to 67108864: received ${
        String(max)
      }`,
    );
  }
  return async (req) => {
    try {
      if (req.method !== "POST") {
        return fail(405, "use POST to enqueue", { allow: "POST" });
      }
      const url = new URL(req.url);
      const group = field(req, url, "x-group-id", "group");
      const dedupId = field(req, url, "x-dedup-id", "dedupId");
      const delayText = field(req, url, "x-delay", "delay");
      const type = field(req, url, "x-message-type", "type");
      let delay: number | undefined;
      if (delayText !== undefined) {
        delay = Number(delayText);
        if (!/^\d+$/.test(delayText.trim())) {
          throw new HttpError(
            400,
            `delay must be a whole number of ms: received ${
              JSON.stringify(delayText)
            }`,
          );
        }
      }
      const value = await bodyValue(req, max);
      const enqueueOptions: QueueEnqueueOptions = { group, dedupId, delay };
      let result: QueueEnqueueResult;
      try {
        result = type !== undefined
          ? await queue.send(type, value, enqueueOptions)
          : await queue.enqueue(value as never, enqueueOptions);
      } catch (error) {
        // A bad field or a message over Deno's limits is the client's;
        // anything else (the engine's TypeErrors with a code among them)
        // is the store's, logged below.
        if (isCallerError(error)) {
          throw new HttpError(400, (error as Error).message);
        }
        console.error(
          `kvq httpEnqueue "${queue.name}": enqueue failed:`,
          error,
        );
        return isClosedError(error)
          ? fail(503, "enqueue failed: the store is closed")
          : fail(500, "enqueue failed: the store failed");
      }
      return new Response(
        JSON.stringify({ id: result.id, duplicate: result.duplicate }) + "\n",
        {
          status: 202,
          headers: {
            "content-type": "application/json",
            "x-job-id": result.id,
          },
        },
      );
    } catch (error) {
      if (error instanceof HttpError) return fail(error.status, error.message);
      console.error(`kvq httpEnqueue "${queue.name}": failed:`, error);
      return fail(500, "internal error");
    }
  };
}
