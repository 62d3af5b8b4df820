/**
 * {@link nodeHandler}: runs a web-standard handler `(Request) =>
 * Promise<Response>` as a `node:http` request listener. Typed
 * structurally, so this module loads no Node types or modules.
 *
 * @module
 */

/** The parts of `http.IncomingMessage` the adapter reads. */
export interface NodeRequestLike extends AsyncIterable<unknown> {
  /** The method. */
  method?: string;
  /** The path and query. */
  url?: string;
  /** The headers, lower-cased. */
  headers: Record<string, string | string[] | undefined>;
  /** True once the whole request has arrived. */
  complete?: boolean;
}

/** The parts of `http.ServerResponse` the adapter writes. */
export interface NodeResponseLike {
  /** The status code. */
  statusCode: number;
  /** Sets a header. */
  setHeader(name: string, value: string): unknown;
  /** Ends the response with a body. */
  end(body?: Uint8Array): unknown;
}

/**
 * The request's body as a stream the handler pulls from: nothing is read
 * before the handler asks, so a handler that stops (httpEnqueue at its
 * `maxBodyBytes`) leaves the rest unread. `read.done` turns true when the
 * body was read to its end.
 */
function bodyStream(
  req: NodeRequestLike,
  read: { done: boolean },
): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<unknown> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      chunks ??= req[Symbol.asyncIterator]();
      const { done, value } = await chunks.next();
      if (done) {
        read.done = true;
        controller.close();
        return;
      }
      controller.enqueue(
        typeof value === "string"
          ? new TextEncoder().encode(value)
          : value as Uint8Array,
      );
    },
    // Nothing to do: what the handler did not read stays unread, and the
    // connection closes after the answer (below). Ending the iterator
    // instead would destroy the request, and with it the socket the
    // answer goes out on.
    cancel() {},
  }, { highWaterMark: 0 });
}

/**
 * A `node:http` request listener running `handler`:
 *
 * ```ts
 * import { createServer } from "node:http";
 * createServer(nodeHandler(httpEnqueue(kv.queue("jobs")))).listen(8000);
 * ```
 *
 * The request's body reaches `handler` as a stream, read as the handler
 * reads it: httpEnqueue stops at its `maxBodyBytes` (or at once, for a
 * `Content-Length` over it) and answers 413 without waiting for the rest.
 * When the answer goes out before the whole request has arrived, it says
 * `Connection: close`, and the server closes the connection after it. A
 * handler that throws gets a 500.
 */
export function nodeHandler(
  handler: (req: Request) => Promise<Response>,
): (req: NodeRequestLike, res: NodeResponseLike) => Promise<void> {
  if (typeof handler !== "function") {
    throw new TypeError("nodeHandler: handler must be a function");
  }
  return async (req, res) => {
    let response: Response;
    const method = req.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const read = { done: false };
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      const host = headers.get("host") ?? "localhost";
      response = await handler(
        new Request(`http://${host}${req.url ?? "/"}`, {
          method,
          headers,
          body: hasBody ? bodyStream(req, read) : undefined,
          // A stream body needs it (Node's fetch insists).
          duplex: "half",
        } as RequestInit),
      );
    } catch (error) {
      console.error("kvq nodeHandler: the handler failed:", error);
      response = new Response('{"error":"internal error"}\n', {
        status: 500,
        headers: { "content-type": "application/json" },
      });
    }
    res.statusCode = response.status;
    response.headers.forEach((value, name) => res.setHeader(name, value));
    if (hasBody && !read.done && req.complete !== true) {
      // The rest of the body is still coming: not read, not kept.
      res.setHeader("connection", "close");
    }
    res.end(new Uint8Array(await response.arrayBuffer()));
  };
}
