/**
 * HTTP enqueue through a real server on loopback: the runtime's own server
 * (Deno.serve, Bun.serve, node:http through nodeHandler) and node:http on
 * every runtime. JSON, form and text bodies, group, dedup id and delay
 * from the request, and clear 4xx answers for bad requests; a store that
 * fails (500) or is closed (503); and, under node:http, a body over the
 * limit answered while the client is still sending it.
 *
 * @module
 */

import { truncateSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { isAbsolute } from "node:path";
import {
  assert,
  assertEquals,
  assertIs,
  sleep,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";
import type { QueuesApi } from "./flavours.ts";
import { NO_COUNTS, recordNamed, withNamed } from "./queues.helpers.ts";
import { asQueue } from "./targets.ts";

type Handler = (req: Request) => Promise<Response>;

/** A server on 127.0.0.1 and a free port; `kind` picks the server. */
async function serve(
  kind: "native" | "node",
  handler: Handler,
  api: QueuesApi,
): Promise<{ url: string; close(): Promise<void> }> {
  const g = globalThis as unknown as {
    Deno?: {
      serve: (
        o: unknown,
        h: Handler,
      ) => { addr: { port: number }; shutdown(): Promise<void> };
    };
    Bun?: {
      serve: (o: unknown) => { port: number; stop(force?: boolean): unknown };
    };
  };
  if (kind === "native" && g.Deno !== undefined) {
    const server = g.Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
    }, handler);
    return {
      url: `http://127.0.0.1:${server.addr.port}`,
      close: () => server.shutdown(),
    };
  }
  if (kind === "native" && g.Bun !== undefined) {
    const server = g.Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: handler,
    });
    return {
      url: `http://127.0.0.1:${server.port}`,
      close: async () => {
        await server.stop(true);
      },
    };
  }
  const server = createServer(api.nodeHandler!(handler) as never);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The server kind's words in a case name. */
function through(kind: "native" | "node"): string {
  return kind === "native"
    ? "the runtime's own server"
    : "node:http and nodeHandler";
}

function httpCase(kind: "native" | "node"): Case {
  return {
    name: `httpEnqueue: through ${
      through(kind)
    } on loopback, bodies become messages, bad requests get a clear 4xx`,
    run: (t) =>
      withNamed(t, async ({ q, api }) => {
        const jobs = q("http");
        const server = await serve(kind, api.httpEnqueue!(jobs), api);
        try {
          const post = (
            path: string,
            body: BodyInit | null,
            headers: Record<string, string> = {},
            method = "POST",
          ) => fetch(server.url + path, { method, body, headers });
          const r = recordNamed(jobs);
          // JSON, with a group from a header.
          let res = await post("/", JSON.stringify({ a: 1 }), {
            "content-type": "application/json",
            "x-group-id": "g1",
          });
          assertIs(res.status, 202);
          const jsonId = res.headers.get("x-job-id")!;
          assert(/^[0-9a-f]{32}$/.test(jsonId), `X-Job-Id ${jsonId}`);
          assertEquals(await res.json(), { id: jsonId, duplicate: false });
          // A form, with a dedup id from the query string, twice.
          res = await post("/?dedupId=form-1", "x=1&y=2&y=3", {
            "content-type": "application/x-www-form-urlencoded",
          });
          assertIs(res.status, 202);
          const formId = res.headers.get("x-job-id");
          await res.body?.cancel();
          res = await post("/?dedupId=form-1", "x=9", {
            "content-type": "application/x-www-form-urlencoded",
          });
          assertIs(res.status, 202);
          assertEquals(await res.json(), { id: formId, duplicate: true });
          // Multipart and text.
          const form = new FormData();
          form.append("name", "ada");
          res = await post("/", form);
          assertIs(res.status, 202);
          await res.body?.cancel();
          res = await post("/", "hello", { "content-type": "text/plain" });
          assertIs(res.status, 202);
          await res.body?.cancel();
          // A typed message.
          res = await post("/?type=order.created", '{"n":1}', {
            "content-type": "application/json",
          });
          assertIs(res.status, 202);
          await res.body?.cancel();
          await sleepUntil(() => r.got.length === 5, 5000, "five deliveries");
          const byId = new Map(r.got.map((g) => [g.info.id, g]));
          assertEquals(byId.get(jsonId)!.value, { a: 1 });
          assertIs(byId.get(jsonId)!.info.group, "g1");
          assertEquals(byId.get(formId!)!.value, { x: "1", y: ["2", "3"] });
          const values = r.got.map((g) => g.value);
          assert(
            values.some((v) => JSON.stringify(v) === '{"name":"ada"}'),
            "multipart",
          );
          assert(values.includes("hello"), "text");
          assert(
            values.some((v) =>
              JSON.stringify(v) === '{"type":"order.created","data":{"n":1}}'
            ),
            "typed",
          );
          // Bad requests.
          const bad = async (
            status: number,
            re: RegExp,
            path: string,
            body: BodyInit | null,
            headers?: Record<string, string>,
            method?: string,
          ) => {
            const res = await post(path, body, headers, method);
            assertIs(
              res.status,
              status,
              `${method ?? "POST"} ${path} ${String(body).slice(0, 20)}`,
            );
            const { error } = await res.json();
            assert(re.test(error), `error message: ${error}`);
          };
          await bad(400, /not valid JSON/, "/", "{nope", {
            "content-type": "application/json",
          });
          await bad(400, /no body/, "/", "", { "content-type": "text/plain" });
          await bad(
            415,
            /content type application\/pdf is not accepted/,
            "/",
            "x",
            { "content-type": "application/pdf" },
          );
          await bad(405, /use POST/, "/", null, {}, "GET");
          await bad(413, /over 65536 bytes/, "/", "x".repeat(70_000), {
            "content-type": "text/plain",
          });
          await bad(400, /group must be a non-empty string/, "/?group=", "x", {
            "content-type": "text/plain",
          });
          await bad(400, /delay must be a whole number/, "/?delay=soon", "x", {
            "content-type": "text/plain",
          });
          // Still serving.
          res = await post("/", "after", { "content-type": "text/plain" });
          assertIs(res.status, 202);
          await res.body?.cancel();
        } finally {
          await server.close();
        }
      }),
  };
}

/**
 * The request fields and bodies the first case does not send, each
 * checked in the queue (peek: nothing listens): the dedup id from
 * X-Dedup-Id (a duplicate answered with the first id), the group from
 * `?group=`, a delay from X-Delay (the message is delayed), a `+json`
 * content type (parsed); and invalid UTF-8 in a text body (400) and a
 * form carrying a file (415), neither enqueued.
 */
function fieldsCase(kind: "native" | "node"): Case {
  return {
    name: `httpEnqueue: through ${
      through(kind)
    }, X-Dedup-Id, ?group=, X-Delay and a +json type reach the message; invalid UTF-8 gets 400, a form with a file 415`,
    run: (t) =>
      withNamed(t, async ({ q, api }) => {
        const jobs = q("http-fields");
        const server = await serve(kind, api.httpEnqueue!(jobs), api);
        try {
          const post = (
            path: string,
            body: BodyInit,
            headers: Record<string, string> = {},
          ) => fetch(server.url + path, { method: "POST", body, headers });
          const text = { "content-type": "text/plain" };
          const accepted = async (res: Response) => {
            assertIs(res.status, 202);
            const body = await res.json();
            assertIs(res.headers.get("x-job-id"), body.id);
            return body as { id: string; duplicate: boolean };
          };
          // The dedup id from its header, twice: the second is the first.
          const once = await accepted(
            await post("/", "one", { ...text, "x-dedup-id": "order-9" }),
          );
          assertIs(once.duplicate, false);
          assertEquals(
            await accepted(
              await post("/", "two", { ...text, "x-dedup-id": "order-9" }),
            ),
            { id: once.id, duplicate: true },
          );
          // The group from the query string.
          const grouped = await accepted(
            await post("/?group=cust-7", "grouped", text),
          );
          // A delay from its header.
          const before = Date.now();
          const later = await accepted(
            await post("/", "later", { ...text, "x-delay": "60000" }),
          );
          // A +json type is JSON.
          const vendor = await accepted(
            await post("/", '{"v":[1,"two"]}', {
              "content-type": "application/vnd.foo+json; charset=utf-8",
            }),
          );
          // Invalid UTF-8 in a text body.
          let res = await post(
            "/",
            new Uint8Array([0x68, 0x69, 0xff, 0xfe]),
            text,
          );
          assertIs(res.status, 400, "invalid UTF-8");
          assertEquals(await res.json(), {
            error: "the body is not valid UTF-8",
          });
          // A multipart form with a file.
          const form = new FormData();
          form.append("name", "ada");
          form.append(
            "doc",
            new Blob(["%PDF-1.7"], { type: "application/pdf" }),
            "a.pdf",
          );
          res = await post("/", form);
          assertIs(res.status, 415, "a form with a file");
          assertEquals(await res.json(), {
            error: 'form field "doc" is a file: files are not accepted',
          });
          // What the queue holds.
          assertEquals(await jobs.counts(), {
            ready: 3,
            delayed: 1,
            waiting: 0,
            running: 0,
            dead: 0,
          });
          const held = new Map(
            (await jobs.peek({ limit: 10 })).map((m) => [m.id as string, m]),
          );
          assertIs(held.size, 4);
          const m = (id: string) => {
            const one = held.get(id);
            assert(one !== undefined, `message ${id} is in the queue`);
            return one as {
              value: unknown;
              state: string;
              group: string | null;
              dueAt: Date;
            };
          };
          assertIs(m(once.id).value, "one");
          assertIs(m(once.id).state, "ready");
          assertIs(m(grouped.id).value, "grouped");
          assertIs(m(grouped.id).group, "cust-7");
          assertIs(m(later.id).value, "later");
          assertIs(m(later.id).state, "delayed");
          const due = m(later.id).dueAt.getTime();
          assert(
            due >= before + 60000 && due <= Date.now() + 60000,
            `due in 60 s: ${due - before} ms after the request`,
          );
          assertEquals(m(vendor.id).value, { v: [1, "two"] });
        } finally {
          await server.close();
        }
      }),
  };
}

/** A POST of `body` as text/plain, for calling a handler directly. */
function textPost(body: string): Request {
  return new Request("http://127.0.0.1/", {
    method: "POST",
    body,
    headers: { "content-type": "text/plain" },
  });
}

/** Runs `fn` with console.error recording its arguments instead. */
async function logging<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; logged: unknown[][] }> {
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    return { value: await fn(), logged };
  } finally {
    console.error = error;
  }
}

/**
 * A store failure for real: the SQLite file of an open store is cut to
 * nothing under it, and the engine's next write fails with a TypeError
 * with code KVQ_SQLITE ("database disk image is malformed"), as Deno
 * raises it. That is the store's failure, not the request's: 500, logged,
 * and the answer does not carry SQLite's words. (Cutting the file works
 * as root too, where a read-only chmod would not stop a write.)
 */
const storeFailureCase: Case = {
  name:
    "httpEnqueue: a store that fails under it (its SQLite file cut to nothing) answers 500, logs the error, and the answer carries no internals",
  skip: (t) =>
    asQueue(t).flavour === "deno-native"
      ? "Deno's own store raises a SQLite failure as a TypeError without a code, which cannot be told from a bad argument"
      : !isAbsolute(t.tempPath())
      ? "the store is not a SQLite file here"
      : undefined,
  run: async (t) => {
    const path = t.tempPath();
    // The queue's tables exist, and the file is closed whole (no WAL).
    await withNamed(t, async ({ q }) => {
      await q("http").enqueue("first");
    }, path);
    await withNamed(t, async ({ q, api }) => {
      const handler = api.httpEnqueue!(q("http"));
      truncateSync(path, 0);
      const { value: res, logged } = await logging(() =>
        handler(textPost("x"))
      );
      assertIs(res.status, 500);
      assertEquals(await res.json(), {
        error: "enqueue failed: the store failed",
      });
      assertIs(logged.length, 1, "one error line");
      // The engine's TypeError KVQ_SQLITE, or, when the engine met the
      // cut file first in a turn of its own and stopped on it as fatal,
      // its Error KVQ_FAILED ("closed after an unrecoverable error").
      const error = logged[0][1] as { code?: unknown };
      assert(
        (error instanceof TypeError && error.code === "KVQ_SQLITE") ||
          (error instanceof Error && error.code === "KVQ_FAILED"),
        `logged the engine's KVQ_SQLITE or KVQ_FAILED: ${String(error)}`,
      );
      assert(
        /enqueue failed/.test(String(logged[0][0])),
        `log line: ${String(logged[0][0])}`,
      );
    }, path);
  },
};

/**
 * A closed store (BadResource, as Deno's): 503, logged. Bad input on the
 * same closed store is still the client's: 400.
 */
const closedCase: Case = {
  name:
    "httpEnqueue: on a closed store answers 503 (logged), bad input still 400",
  run: (t) =>
    withNamed(t, async ({ kv, q, api }) => {
      const handler = api.httpEnqueue!(q("http"));
      kv.close();
      const { value: res, logged } = await logging(() =>
        handler(textPost("x"))
      );
      assertIs(res.status, 503);
      assertEquals(await res.json(), {
        error: "enqueue failed: the store is closed",
      });
      assertIs(logged.length, 1, "one error line");
      assertIs((logged[0][1] as Error).name, "BadResource");
      const bad = await handler(
        new Request("http://127.0.0.1/?delay=soon", {
          method: "POST",
          body: "x",
        }),
      );
      assertIs(bad.status, 400);
      await bad.body?.cancel();
    }),
};

/**
 * A JSON body nested deeper than a message may be (1001 arrays: the
 * payload's serializer refuses past 1000 levels, with a RangeError) is
 * the client's mistake: 400 with the reason, nothing logged, nothing
 * enqueued.
 */
const tooDeepCase: Case = {
  name:
    "httpEnqueue: a JSON body nested too deep to be a message answers 400, not logged",
  run: (t) =>
    withNamed(t, async ({ q, api }) => {
      const jobs = q("http");
      const handler = api.httpEnqueue!(jobs);
      const depth = 1001;
      const { value: res, logged } = await logging(() =>
        handler(
          new Request("http://127.0.0.1/", {
            method: "POST",
            body: "[".repeat(depth) + "]".repeat(depth),
            headers: { "content-type": "application/json" },
          }),
        )
      );
      const answer = await res.json() as { error: string };
      assertIs(res.status, 400, JSON.stringify(answer));
      assert(answer.error.length > 0, "a reason");
      assertIs(logged.length, 0, `logged: ${JSON.stringify(logged)}`);
      assertEquals(await jobs.counts(), NO_COUNTS);
    }),
};

/** What {@link neverEnding} saw. */
interface Unended {
  /** The answer's status. */
  status: number;
  /** The answer's JSON error message. */
  error: string;
  /** Body bytes sent before the answer came. */
  sentBefore: number;
  /** Whether the server closed the connection within 5 s of the answer. */
  closed: boolean;
}

/**
 * Sends a request by hand on a socket to 127.0.0.1:`port`: `head`, then
 * `piece` (body bytes, as they go on the wire) every 5 ms, never ending
 * the body. Waits (at most 5 s) for the answer, then (at most 5 s more)
 * for the server to close the connection, still sending meanwhile.
 */
async function neverEnding(
  port: number,
  head: string[],
  piece: string,
  pieceBytes: number,
): Promise<Unended> {
  const socket = connect(port, "127.0.0.1");
  // Writes after the server closed fail (EPIPE, ECONNRESET): expected.
  socket.on("error", () => {});
  let received = "";
  let closed = false;
  let sent = 0;
  socket.on("data", (d: Uint8Array) => {
    received += new TextDecoder().decode(d);
  });
  socket.on("end", () => closed = true);
  socket.on("close", () => closed = true);
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.write(head.join("\r\n") + "\r\n\r\n");
    timer = setInterval(() => {
      if (closed || socket.destroyed) return;
      socket.write(piece);
      sent += pieceBytes;
    }, 5);
    const answered = () => /\{"error":"[^"]*"\}/.test(received);
    await sleepUntil(() => answered() || closed, 5000, "the answer");
    const sentBefore = sent;
    assert(answered(), `an answer before the close: ${received}`);
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(received)?.[1]);
    const error = JSON.parse(/\{"error":"[^"]*"\}/.exec(received)![0]).error;
    const deadline = Date.now() + 5000;
    while (!closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return { status, error, sentBefore, closed };
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
}

/**
 * Under node:http the body streams into the handler: a client that sends
 * more than `maxBodyBytes` and never ends its body still gets the 413
 * (the server did not wait for the body's end, nor keep what came after
 * the limit), and the server closes the connection after it. The same
 * for a Content-Length over the limit, answered before any body byte is
 * read. A client that goes away in the middle of its body is no failure
 * of the store: 400, nothing logged, nothing enqueued.
 */
const nodeLimitCase: Case = {
  name:
    "httpEnqueue under node:http and nodeHandler: a body over maxBodyBytes that never ends gets 413 at once and the connection closed, so does a Content-Length over it; a body cut short is a 400, not logged",
  run: (t) =>
    withNamed(t, async ({ q, api }) => {
      const jobs = q("http-limit");
      const handler = api.httpEnqueue!(jobs, { maxBodyBytes: 1000 });
      const statuses: number[] = [];
      const server = await serve("node", async (req) => {
        const res = await handler(req);
        statuses.push(res.status);
        return res;
      }, api);
      const port = Number(new URL(server.url).port);
      try {
        const data = "x".repeat(300);
        const chunked = await neverEnding(
          port,
          [
            "POST / HTTP/1.1",
            "host: 127.0.0.1",
            "content-type: text/plain",
            "transfer-encoding: chunked",
          ],
          `${data.length.toString(16)}\r\n${data}\r\n`,
          data.length,
        );
        assertIs(chunked.status, 413, "chunked body over the limit");
        assertIs(chunked.error, "the body is over 1000 bytes");
        assert(chunked.sentBefore > 1000, `sent ${chunked.sentBefore}`);
        assert(chunked.closed, "the server closed the connection");
        const declared = await neverEnding(
          port,
          [
            "POST / HTTP/1.1",
            "host: 127.0.0.1",
            "content-type: text/plain",
            "content-length: 100000000",
          ],
          data,
          data.length,
        );
        assertIs(declared.status, 413, "Content-Length over the limit");
        assertIs(declared.error, "the body is over 1000 bytes");
        assert(declared.closed, "the server closed the connection");
        // A client that goes away in the middle of its body: a 400 for
        // nobody, not a failure of the store (no error line), and no
        // message of the half body.
        const { logged } = await logging(async () => {
          const socket = connect(port, "127.0.0.1");
          socket.on("error", () => {});
          await new Promise<void>((resolve, reject) => {
            socket.once("connect", resolve);
            socket.once("error", reject);
          });
          socket.write(
            "POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhalf \r\n",
          );
          await sleep(50);
          socket.destroy();
          await sleepUntil(() => statuses.length === 3, 5000, "its answer");
        });
        assertIs(statuses[2], 400, "the body cut short");
        assertEquals(logged, []);
        // Nothing was enqueued, and the server still serves.
        const res = await fetch(server.url, {
          method: "POST",
          body: "fits",
          headers: { "content-type": "text/plain" },
        });
        assertIs(res.status, 202);
        await res.body?.cancel();
        assertEquals(
          (await jobs.peek()).map((m) => m.value),
          ["fits"],
        );
      } finally {
        await server.close();
      }
    }),
};

export const cases: Case[] = [
  httpCase("native"),
  httpCase("node"),
  fieldsCase("native"),
  fieldsCase("node"),
  storeFailureCase,
  closedCase,
  tooDeepCase,
  nodeLimitCase,
];
