/**
 * Typed dispatch: send(type, data) with one handler per type, unknown
 * types failing and retried, and danet's `{ type, data }` messages, left
 * in Deno's own queue by danet's KvQueue, handled by `typed()` without
 * draining.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  sleep,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";
import type { InfoLike } from "./flavours.ts";
import { withNamed } from "./queues.helpers.ts";

export const cases: Case[] = [
  {
    name:
      "queue.send: one handler per type gets (data, info); the stored message is danet's { type, data }",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const events = q("events");
        const got: unknown[] = [];
        const { id } = await events.send("order.created", { order: 1 });
        await events.send("user.deleted", { user: 7 });
        assertEquals((await events.peek()).map((m) => m.value), [
          { type: "order.created", data: { order: 1 } },
          { type: "user.deleted", data: { user: 7 } },
        ]);
        events.listen({
          "order.created": (data: unknown, info: InfoLike) => {
            got.push(["created", data, info.id === id, info.queue]);
          },
          "user.deleted": (data: unknown) => {
            got.push(["deleted", data]);
          },
        });
        await sleepUntil(() => got.length === 2, 3000, "two deliveries");
        assertEquals(got, [
          ["created", { order: 1 }, true, "events"],
          ["deleted", { user: 7 }],
        ]);
      }),
  },
  {
    name:
      "queue.listen: a type without a handler fails with a clear error and follows the retry policy",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const events = q("events", { maxAttempts: 2 });
        events.listen({ known: () => {} });
        await events.send("unknown", 1);
        await sleepUntil(
          async () => (await events.deadLetters()).length === 1,
          3000,
          "dead letter",
        );
        const [dead] = await events.deadLetters();
        assertIs(dead.attempts, 2);
        assertIs(
          dead.lastError,
          'TypeError: queue "events": no handler for message type "unknown" (handlers: "known")',
        );
      }),
  },
  {
    name:
      "typed: danet's messages in Deno's own queue (kv.enqueue({ type, data })) are dispatched by type",
    run: (t) =>
      withNamed(t, async ({ kv, api }) => {
        const got: unknown[] = [];
        let unknownCalls = 0;
        const stop = new AbortController();
        // What danet's KvQueue.sendMessage(type, data) does.
        await kv.enqueue({ type: "order.created", data: { id: 1 } });
        await kv.enqueue({ type: "mystery", data: null }, {
          backoffSchedule: [10],
          keysIfUndelivered: [["undelivered"]],
        });
        const handler = api.typed({
          "order.created": (data: unknown) => {
            got.push(data);
          },
        });
        const done = kv.listenQueue((m: unknown) => {
          if ((m as { type: string }).type === "mystery") unknownCalls++;
          return handler(m);
        }, { signal: stop.signal } as never);
        await sleepUntil(
          async () =>
            got.length === 1 &&
            (await kv.get(["undelivered"])).versionstamp !== null,
          5000,
          "the known type handled, the unknown one dead-lettered",
        );
        assertEquals(got, [{ id: 1 }]);
        assertIs(unknownCalls, 2, "attempts of the unknown type");
        assertEquals((await kv.get(["undelivered"])).value, {
          type: "mystery",
          data: null,
        });
        stop.abort();
        await Promise.race([done, sleep(2000)]);
        let threw = false;
        try {
          api.typed({ a: "no" as never });
        } catch (error) {
          threw = error instanceof TypeError;
        }
        assert(threw, "typed() checks its handlers");
      }),
  },
];
