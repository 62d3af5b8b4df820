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
 * A `node:http` request listener running `handler`:
 *
 * ```ts
 * import { createServer } from "node:http";
 * createServer(nodeHandler(httpEnqueue(kv.queue("jobs")))).listen(8000);
 * ```
 *
 * The request's body is read whole before `handler` runs. A handler that
 * throws gets a 500.
 */
export function nodeHandler(
  handler: (req: Request) => Promise<Response>,
): (req: NodeRequestLike, res: NodeResponseLike) => Promise<void> {
  if (typeof handler !== "function") {
    throw new TypeError("nodeHandler: handler must be a function");
  }
  return async (req, res) => {
    let response: Response;
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      const method = req.method ?? "GET";
      let body: Uint8Array | undefined;
      if (method !== "GET" && method !== "HEAD") {
        const chunks: Uint8Array[] = [];
        for await (const c of req) {
          chunks.push(
            typeof c === "string"
              ? new TextEncoder().encode(c)
              : c as Uint8Array,
          );
        }
        body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          body.set(c, at);
          at += c.length;
        }
      }
      const host = headers.get("host") ?? "localhost";
      response = await handler(
        new Request(`http://${host}${req.url ?? "/"}`, {
          method,
          headers,
          body: body as Uint8Array<ArrayBuffer> | undefined,
        }),
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
    res.end(new Uint8Array(await response.arrayBuffer()));
  };
}
