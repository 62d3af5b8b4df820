/**
 * Queue behaviours where kvq deliberately differs from Deno 2.9.6
 * (COMPATIBILITY.md section 2): each case asserts Deno's behaviour on the
 * native target and kvq's elsewhere.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  chunkWithin,
  nextChunk,
  recordDeliveries,
  sleep,
  sleepUntil,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name:
      "queue.listen: messages due in the same millisecond arrive in random order on Deno, in enqueue order on kvq",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic();
        const sent = Array.from({ length: 20 }, (_, i) => i);
        for (const i of sent) op.enqueue(i);
        await op.commit();
        const r = recordDeliveries(kv);
        await sleepUntil(() => r.seen.length === 20, 5000, "20 deliveries");
        assertEquals(
          [...r.seen].sort((a, b) => (a as number) - (b as number)),
          sent,
          "every message once",
        );
        if (t.isDenoNative) {
          // Deviation: Deno orders equal timestamps by random UUID (1/20! to match).
          assert(
            r.seen.some((v, i) => v !== i),
            "Deno delivered 20 same-ms messages in enqueue order",
          );
        } else {
          assertEquals(r.seen, sent, "delivery order");
        }
      }),
  },
  {
    name:
      "queue.listen: a dead-letter write does not wake watch() on Deno, does on kvq",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["dl"]]).getReader();
        await nextChunk(reader);
        recordDeliveries(kv, () => true);
        await kv.enqueue("dead", {
          backoffSchedule: [],
          keysIfUndelivered: [["dl"]],
        });
        await sleepUntil(
          async () => (await kv.get(["dl"])).value === "dead",
          3000,
          "dead letter",
        );
        const chunk = await chunkWithin(reader, 400);
        if (t.isDenoNative) {
          assertIs(chunk, null, "watch chunk after the dead-letter write");
        } else {assertIs(
            chunk?.[0].value,
            "dead",
            "watch chunk after the dead-letter write",
          );}
        await reader.cancel();
      }),
  },
  {
    name:
      "queue.listen: concurrent handlers are unbounded on Deno, capped at 100 on kvq",
    run: (t) =>
      withKv(t, async (kv) => {
        let running = 0;
        let peak = 0;
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        kv.listenQueue(async () => {
          running++;
          peak = Math.max(peak, running);
          await gate;
          running--;
        });
        const op = kv.atomic();
        for (let i = 0; i < 120; i++) op.enqueue(i);
        await op.commit();
        const cap = t.isDenoNative ? 120 : 100;
        await sleepUntil(
          () => running === cap,
          8000,
          `${cap} handlers running`,
        );
        await sleep(300);
        assertIs(peak, cap, "peak concurrent handlers");
        release();
        await sleepUntil(
          () => running === 0 && peak === cap,
          8000,
          "all handlers to finish",
        );
      }),
  },
];
