/**
 * Scenarios (12): what kvq's named queues cost, on kvq's rows only. Each
 * is a drain like (3) (a backlog enqueued first, untimed; then the clock
 * runs from starting the listener until a no-op handler has started on
 * every message), through a named queue instead of the anonymous one, or
 * through the anonymous one while named queues are in use beside it. The
 * targets (lib/targets.ts) compare them with the same row's `drain_20k`.
 */
import { NotAvailableError } from "../lib/types.ts";
import type {
  MessageHandler,
  NamedOptions,
  NamedQueues,
  Payload,
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
 * The drain of (3) through named queue "bench", each message sent with
 * `options(message)`.
 */
export function namedDrain(
  options?: (message: Payload) => NamedOptions,
): Scenario {
  return (instance, params, run) => {
    const named = namedOf(instance);
    const through: SystemInstance = {
      ...instance,
      enqueueMany: (batch) => named.enqueueMany("bench", batch, options),
      listen: (handler: MessageHandler) =>
        named.listen("bench", handler, CONCURRENCY),
    };
    return drain(through, params, run);
  };
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
 * The drain of (3) on the anonymous queue, while two named queues of the
 * same store have listeners waiting: what named queues cost the plain
 * path.
 */
export const drainBesideNamed: Scenario = (instance, params, run) => {
  const named = namedOf(instance);
  for (const name of ["idle-a", "idle-b"]) {
    named.listen(name, () => {}, CONCURRENCY);
  }
  return drain(instance, params, run);
};
