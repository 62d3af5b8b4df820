/**
 * Scenarios (12): what kvq's named queues cost, on kvq's rows only. Each
 * run is three drains like (3) (a backlog enqueued first, untimed; then
 * the clock runs from starting the listener until a no-op handler has
 * started on every message), one after the other on the same store: the
 * plain drain of the anonymous queue, the one measured, and the plain one
 * again. A run reports the measured rate, the plain one and their ratio,
 * so the ratio the targets judge (lib/targets.ts) compares drains a few
 * seconds apart, not two scenarios a minute apart on a machine whose
 * speed wanders meanwhile.
 */
import { NotAvailableError } from "../lib/types.ts";
import type {
  MessageHandler,
  NamedOptions,
  NamedQueues,
  Payload,
  RunContext,
  RunResult,
  ScenarioParams,
  SystemInstance,
} from "../lib/types.ts";
import { drain } from "./drain.ts";
import type { Scenario } from "./common.ts";

/** The listener's concurrency, as kvq's `listenQueue` default. */
const CONCURRENCY = 100;

/** The ordering groups of `named_groups_20k`. */
const GROUPS = 1000;

function namedOf(instance: SystemInstance): NamedQueues {
  if (!instance.named) {
    throw new NotAvailableError("this system has no named queues");
  }
  return instance.named;
}

/**
 * Runs `f` on a second handle on the store, closed after it (closing
 * stops its listeners).
 */
async function onPeer<T>(
  instance: SystemInstance,
  f: (peer: SystemInstance) => Promise<T>,
): Promise<T> {
  if (!instance.openPeer) {
    throw new NotAvailableError("this system opens no second handle");
  }
  const peer = await instance.openPeer();
  try {
    return await f(peer);
  } finally {
    await peer.close();
  }
}

/**
 * The plain drain of (3) on a handle of its own: the same engine as the
 * measured drain's, without what the measured one runs beside it.
 */
function plainDrain(
  instance: SystemInstance,
  params: ScenarioParams,
  run: RunContext,
): Promise<RunResult> {
  return onPeer(instance, (peer) => drain(peer, params, run));
}

/**
 * A plain drain, `measure`, and a plain drain again: the run's `rate` is
 * the measured one's, `plain_rate` the mean of the two around it (so the
 * process warming up, or the machine slowing down, favours neither), and
 * `ratio` the first over the second.
 */
function sandwiched(measure: Scenario): Scenario {
  return async (instance, params, run) => {
    const before = await plainDrain(instance, params, run);
    const measured = await measure(instance, params, run);
    const after = await plainDrain(instance, params, run);
    const plainRate = (before.metrics.rate + after.metrics.rate) / 2;
    return {
      ...measured,
      complete: measured.complete && before.complete && after.complete,
      duplicates: measured.duplicates + before.duplicates + after.duplicates,
      metrics: {
        ...measured.metrics,
        plain_rate: Math.round(plainRate),
        ratio: Math.round(measured.metrics.rate / plainRate * 1000) / 1000,
      },
    };
  };
}

/**
 * The drain of (3) through named queue "bench", each message sent with
 * `options(message)`.
 */
export function namedDrain(
  options?: (message: Payload) => NamedOptions,
): Scenario {
  return sandwiched((instance, params, run) => {
    const named = namedOf(instance);
    // A listener that fails ends the run with its error, rather than as
    // a drain that ran out of time.
    let failed!: (error: unknown) => void;
    const failure = new Promise<never>((_, reject) => failed = reject);
    const through: SystemInstance = {
      ...instance,
      enqueueMany: (batch) => named.enqueueMany("bench", batch, options),
      listen: (handler: MessageHandler) => {
        named.listen("bench", handler, CONCURRENCY).catch(failed);
      },
    };
    return Promise.race([drain(through, params, run), failure]);
  });
}

/** No options: a named queue's own cost. */
export const namedPlain: Scenario = namedDrain();

/**
 * Message i in group `g{i mod 1000}`: each group delivers one at a time,
 * in order. A backlog batch (500 in a row) never has two of one group.
 */
export const namedGroups: Scenario = namedDrain((m) => ({
  group: `g${m.i % GROUPS}`,
}));

/** Every message with a dedup id of its own (none is a duplicate). */
export const namedDedup: Scenario = namedDrain((m) => ({
  dedupId: `d-${m.i}`,
}));

/**
 * The plain drain while two named queues of the same handle have
 * listeners waiting: what named queues in use cost the plain path. On a
 * handle of its own, as the plain drains around it, so that its
 * listeners stop before the next drain.
 */
export const drainBesideNamed: Scenario = sandwiched(
  (instance, params, run) =>
    onPeer(instance, (peer) => {
      const named = namedOf(peer);
      // Closing the handle stops these; that end is expected.
      for (const name of ["idle-a", "idle-b"]) {
        named.listen(name, () => {}, CONCURRENCY).catch(() => {});
      }
      return drain(peer, params, run);
    }),
);
