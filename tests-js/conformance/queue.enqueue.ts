/**
 * kv.enqueue and atomic().enqueue validation (spec 5.1): each message, and
 * when it surfaces (rejection from kv.enqueue, synchronous throw from the
 * builder).
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  versionstamp,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

const BAD_PART = "expected string, number, bigint, ArrayBufferView, boolean";

/** [options, message] pairs that fail JS validation. */
const INVALID: [string, Record<string, unknown>, string][] = [
  ["a negative delay", { delay: -1 }, "Delay must be >= 0: received -1"],
  [
    "a delay over 30 days",
    { delay: 2592000001 },
    "Delay cannot be greater than 30 days: received 2592000001",
  ],
  [
    "an infinite delay",
    { delay: Infinity },
    "Delay cannot be greater than 30 days: received Infinity",
  ],
  ["a NaN delay", { delay: NaN }, "Delay cannot be NaN"],
  [
    "six backoff intervals",
    { backoffSchedule: [1, 1, 1, 1, 1, 1] },
    "Invalid backoffSchedule, max 5 intervals allowed",
  ],
  [
    "a negative interval",
    { backoffSchedule: [1, -1] },
    "Invalid backoffSchedule, interval at index 1 is invalid",
  ],
  [
    "an interval over 1 hour",
    { backoffSchedule: [3600001] },
    "Invalid backoffSchedule, interval at index 0 is invalid",
  ],
  [
    "a NaN interval",
    { backoffSchedule: [1, 2, NaN] },
    "Invalid backoffSchedule, interval at index 2 is invalid",
  ],
  [
    "an interval of 2^32",
    { backoffSchedule: [2 ** 32] },
    "Invalid backoffSchedule, interval at index 0 is invalid",
  ],
  [
    "a null backoffSchedule",
    { backoffSchedule: null },
    "Cannot read properties of null (reading 'length')",
  ],
];

export const cases: Case[] = [
  {
    name: "kv.enqueue: resolves to { ok: true, versionstamp }",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.enqueue("m", { delay: 60_000 });
        assertEquals(Object.keys(res), ["ok", "versionstamp"]);
        assertIs(res.ok, true);
        versionstamp(res.versionstamp);
      }),
  },
  ...INVALID.map(([label, options, msg]): Case => ({
    name: `kv.enqueue: ${label} rejects with TypeError`,
    run: (t) =>
      withKv(
        t,
        (kv) => assertRejects(() => kv.enqueue("m", options), TypeError, msg),
      ),
  })),
  ...INVALID.map(([label, options, msg]): Case => ({
    name: `atomic.enqueue: ${label} throws synchronously`,
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(assertThrows(
            () => kv.atomic().enqueue("m", options),
            TypeError,
            msg,
          )),
      ),
  })),
  {
    name:
      "kv.enqueue: accepted edge values: 30 days, fractional and null delay, fractional interval, []",
    run: (t) =>
      withKv(t, async (kv) => {
        const accepted = [
          { delay: 2592000000 },
          { delay: 1.5 },
          { delay: null },
          { backoffSchedule: [1.5, 3600000] },
          { backoffSchedule: [] },
          { keysIfUndelivered: null },
          { keysIfUndelivered: [[]] },
        ];
        for (const options of accepted) {
          const res = await kv.enqueue("m", { delay: 60_000, ...options });
          assertIs(res.ok, true, JSON.stringify(options));
        }
      }),
  },
  ...([
    ["a string delay", { delay: "100" }, "integer, got: string"],
    ["a null interval", { backoffSchedule: [null] }, "integer, got: null"],
    [
      "a string backoffSchedule",
      { backoffSchedule: "x" },
      "array, got: string",
    ],
    [
      "a numeric keysIfUndelivered",
      { keysIfUndelivered: 5 },
      "array, got: Number",
    ],
    [
      "a keysIfUndelivered key that is a string",
      { keysIfUndelivered: ["x"] },
      "array, got: string",
    ],
  ] as const).map(([label, options, tail]): Case => ({
    name:
      `kv.enqueue: ${label} passes JS validation and rejects in the serde layer, also at atomic commit`,
    run: (t) =>
      withKv(t, async (kv) => {
        const msg = `serde_v8 error: invalid type; expected: ${tail}`;
        await assertRejects(() => kv.enqueue("m", options), TypeError, msg);
        const op = kv.atomic().enqueue("m", options);
        await assertRejects(() => op.commit(), TypeError, msg);
      }),
  })),
  {
    name: "kv.enqueue: an invalid keysIfUndelivered key part rejects",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(
            () => kv.enqueue("m", { keysIfUndelivered: [[{}]] }),
            TypeError,
            BAD_PART,
          ),
      ),
  },
  {
    name:
      "kv.enqueue: the enqueue versionstamp is shared with the atomic's writes",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.atomic().set(["a"], 1).enqueue("m", {
          delay: 60_000,
        }).commit();
        assertIs((await kv.get(["a"])).versionstamp, res.versionstamp);
      }),
  },
];
