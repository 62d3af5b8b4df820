/**
 * Size and count limits (spec 1.4, 2.3, 4.6): the value at the limit passes,
 * one past it fails with Deno's exact message.
 *
 * @module
 */

import {
  ascii,
  assertNextRejects,
  assertRejects,
  assertThrows,
  bytes,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

const WRITE = "Key too large for write (max 2048 bytes)";
const READ = "Key too large for read (max 2049 bytes)";

/** A one-part key of `n` non-zero bytes: encodes to n + 2 bytes. */
const bkey = (n: number) => [bytes(n, 1)];

export const cases: Case[] = [
  {
    name: "limits: a set key of 2048 encoded bytes passes, 2049 rejects",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(bkey(2046), 1);
        await assertRejects(() => kv.set(bkey(2047), 1), TypeError, WRITE);
      }),
  },
  {
    name: "limits: escaped zero bytes count double in the key size",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set([bytes(1023, 0)], 1);
        await assertRejects(
          () => kv.set([bytes(1024, 0)], 1),
          TypeError,
          WRITE,
        );
      }),
  },
  {
    name: "limits: delete, sum and check keys use the write limit",
    run: (t) =>
      withKv(t, async (kv) => {
        await assertRejects(() => kv.delete(bkey(2047)), TypeError, WRITE);
        await assertRejects(
          () => kv.atomic().sum(bkey(2047), 1n).commit(),
          TypeError,
          WRITE,
        );
        await assertRejects(
          () =>
            kv.atomic().check({ key: bkey(2047), versionstamp: null }).commit(),
          TypeError,
          WRITE,
        );
      }),
  },
  {
    // The range end of a get is enc(K) + 0x00, so a 2049-byte key already
    // gives a 2050-byte end: the limit a get key sees is 2048.
    name:
      "limits: a get key of 2048 encoded bytes passes, 2049 rejects (its range end is 2050)",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.get(bkey(2046));
        await kv.getMany([bkey(2046)]);
        await assertRejects(() => kv.get(bkey(2047)), TypeError, READ);
        await assertRejects(() => kv.getMany([bkey(2047)]), TypeError, READ);
      }),
  },
  {
    name:
      "limits: a watch key of 2049 encoded bytes passes, 2050 throws synchronously",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.watch([bkey(2047)]).cancel();
        assertThrows(() => kv.watch([bkey(2048)]), TypeError, READ);
      }),
  },
  {
    name:
      "limits: a list prefix of 2048 encoded bytes passes, 2049 rejects on next()",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.list({ prefix: bkey(2046) }).next();
        await assertNextRejects(
          () => kv.list({ prefix: bkey(2047) }),
          TypeError,
          READ,
        );
      }),
  },
  {
    name: "limits: a Uint8Array value of 65536 bytes passes, 65537 rejects",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["v"], bytes(65536));
        await assertRejects(
          () => kv.set(["v"], bytes(65537)),
          TypeError,
          "Value too large (max 65536 bytes)",
        );
      }),
  },
  {
    name:
      "limits: a V8 value counts its header: 65530 ASCII chars pass, 65531 reject",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["v"], ascii(65530));
        await assertRejects(
          () => kv.set(["v"], ascii(65531)),
          TypeError,
          "Value too large (max 65536 bytes)",
        );
      }),
  },
  {
    name:
      "limits: an enqueue payload is always V8: a 65536-byte Uint8Array is too large",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.enqueue(bytes(65000));
        await assertRejects(
          () => kv.enqueue(bytes(65536)),
          TypeError,
          "enqueue payload too large (max 65536 bytes)",
        );
      }),
  },
  {
    name: "limits: 100 checks pass, 101 reject",
    run: (t) =>
      withKv(t, async (kv) => {
        const checks = (n: number) =>
          Array.from(
            { length: n },
            (_, i) => ({ key: ["c", i], versionstamp: null }),
          );
        const ok = await kv.atomic().check(...checks(100)).commit();
        if (!ok.ok) throw new Error("100 checks should commit");
        await assertRejects(
          () => kv.atomic().check(...checks(101)).commit(),
          TypeError,
          "Too many checks (max 100)",
        );
      }),
  },
  {
    name:
      "limits: 1000 mutations pass, 1001 reject, and enqueues count as mutations",
    run: (t) =>
      withKv(t, async (kv) => {
        const sets = (n: number) => {
          const op = kv.atomic();
          for (let i = 0; i < n; i++) op.set(["m", i], i);
          return op;
        };
        await sets(1000).commit();
        const msg = "Too many mutations (max 1000)";
        await assertRejects(() => sets(1001).commit(), TypeError, msg);
        await assertRejects(
          () => sets(999).enqueue(1).enqueue(2).commit(),
          TypeError,
          msg,
        );
      }),
  },
  {
    name:
      "limits: total mutation size counts value-carrying keys twice (max 819200)",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic();
        // 2041-byte keys: 13 x (2041 + 2041 + 60000) > 819200, but 13 x (2041 + 60000) is not.
        for (let i = 0; i < 13; i++) op.set([bytes(2030, 1), i], bytes(60000));
        await assertRejects(
          () => op.commit(),
          TypeError,
          "Total mutation size too large (max 819200 bytes)",
        );
      }),
  },
  {
    name:
      "limits: total key size of value-carrying mutations is capped at 81920 bytes",
    run: (t) =>
      withKv(t, async (kv) => {
        const build = (n: number) => {
          const op = kv.atomic();
          for (let i = 0; i < n; i++) op.set([bytes(2030, 1), i], 0);
          return op;
        };
        await build(40).commit();
        await assertRejects(
          () => build(41).commit(),
          TypeError,
          "Total key size too large (max 81920 bytes)",
        );
      }),
  },
  {
    name: "limits: deletes and checks do not count toward the total key size",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic();
        for (let i = 0; i < 60; i++) op.delete([bytes(2030, 1), i]);
        for (let i = 0; i < 60; i++) {
          op.check({ key: [bytes(2030, 2), i], versionstamp: null });
        }
        const res = await op.commit();
        if (!res.ok) {
          throw new Error("expected the commit to pass");
        }
      }),
  },
  {
    name: "limits: getMany takes 10 keys; 11 reject",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = (n: number) =>
          Array.from({ length: n }, (_, i) => ["k", i]);
        await kv.getMany(keys(10));
        await assertRejects(
          () => kv.getMany(keys(11)),
          TypeError,
          "Too many ranges (max 10)",
        );
      }),
  },
  {
    name: "limits: watch takes 10 keys; 11 throw synchronously",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = (n: number) =>
          Array.from({ length: n }, (_, i) => ["k", i]);
        await kv.watch(keys(10)).cancel();
        assertThrows(
          () => kv.watch(keys(11)),
          TypeError,
          "Too many keys (max 10)",
        );
      }),
  },
  {
    name: "limits: a list batchSize over 1000 rejects on the first next()",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.list({ prefix: [] }, { batchSize: 1000 }).next();
        await assertNextRejects(
          () => kv.list({ prefix: [] }, { batchSize: 1001 }),
          TypeError,
          "Too many entries (max 1000)",
        );
      }),
  },
  {
    name: "limits: keysIfUndelivered keys are not size-checked and not counted",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = Array.from({ length: 100 }, (_, i) => [bytes(3000, 1), i]);
        const res = await kv.enqueue("m", {
          keysIfUndelivered: keys,
          delay: 1000,
        });
        if (!res.ok) throw new Error("expected the enqueue to pass");
      }),
  },
];
