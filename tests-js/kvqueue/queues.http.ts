/**
 * HTTP enqueue through a real server on loopback: the runtime's own server
 * (Deno.serve, Bun.serve, node:http through nodeHandler) and node:http on
 * every runtime. JSON, form and text bodies, group and dedup id from the
 * request, and clear 4xx answers for bad requests.
 *
 * @module
 */

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  assert,
  assertEquals,
  assertIs,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";
import type { QueuesApi } from "./flavours.ts";
import { recordNamed, withNamed } from "./queues.helpers.ts";

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

function httpCase(kind: "native" | "node"): Case {
  return {
    name: `httpEnqueue: through ${
      kind === "native"
        ? "the runtime's own server"
        : "node:http and nodeHandler"
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

export const cases: Case[] = [httpCase("native"), httpCase("node")];
