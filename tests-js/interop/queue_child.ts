/**
 * Child of queue_test.ts, on kvq: `enqueue FILE` sends the scenario,
 * `consume FILE` listens to it and prints what it saw (the parent judges),
 * `dead FILE` checks the dead letters another runtime wrote,
 * `stop-then-enqueue FILE` stops a listener, enqueues one message, closes.
 *
 * @module
 */

import process from "node:process";
import { Checks, describe, printResult } from "./checks.ts";
import { loadKvq } from "./kvq_entry.ts";
import { consume, enqueueAll, judgeDeadLetters } from "./queue_scenario.ts";

const CONSUME_TIMEOUT_MS = 10_000;

const [mode, file] = process.argv.slice(2);
const checks = new Checks();
try {
  const { openKv } = await loadKvq();
  const kv = await openKv(file);
  if (mode === "enqueue") {
    const enqueuedAt = await enqueueAll(kv);
    kv.close();
    checks.check("kvq enqueued the scenario", true);
    printResult({ enqueuedAt });
  } else if (mode === "stop-then-enqueue") {
    // A listener stopped by its signal, then one message, then close: the
    // message must be left ready for the next process, not leased.
    const stop = new AbortController();
    const listening = kv.listenQueue(() => {}, { signal: stop.signal });
    stop.abort();
    await listening;
    await kv.enqueue("after the listener stopped");
    kv.close();
    checks.check("kvq enqueued after its listener stopped", true);
  } else if (mode === "consume") {
    const report = await consume(kv, CONSUME_TIMEOUT_MS);
    checks.check("kvq listened until the scenario settled", true);
    printResult(report);
  } else {
    for (const [name, diff] of await judgeDeadLetters(kv)) {
      checks.same(name, diff);
    }
    kv.close();
  }
} catch (e) {
  checks.check(`${mode} ${file}`, false, describe(e));
}
checks.finish();
