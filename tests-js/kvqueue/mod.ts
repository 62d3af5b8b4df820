/**
 * Every case of the queue-on-KV suite: the conformance suite's queue
 * cases, adapted to the wrapper, then this suite's own.
 *
 * @module
 */

import { cases as queueEnqueue } from "../conformance/queue.enqueue.ts";
import { cases as queueListen } from "../conformance/queue.listen.ts";
import { cases as queueDeviations } from "../conformance/queue.deviations.ts";
import type { Case } from "../harness/types.ts";
import { adaptConformance } from "./targets.ts";
import { cases as atomic } from "./withQueues.atomic.ts";
import { cases as listenQueue } from "./withQueues.listenQueue.ts";
import { cases as processes } from "./withQueues.processes.ts";
import { cases as named } from "./queues.named.ts";
import { cases as groups } from "./queues.groups.ts";
import { cases as queueProcesses } from "./queues.processes.ts";
import { cases as dedup } from "./queues.dedup.ts";
import { cases as enqueueIn } from "./queues.atomic.ts";
import { cases as typed } from "./queues.typed.ts";
import { cases as admin } from "./queues.admin.ts";
import { cases as http } from "./queues.http.ts";
import { cases as cli } from "./queues.cli.ts";
import { cases as close } from "./queues.close.ts";
import { cases as retry } from "./queues.retry.ts";

/** All cases, conformance first. */
export const allCases: Case[] = [
  ...adaptConformance([...queueEnqueue, ...queueListen, ...queueDeviations]),
  ...atomic,
  ...listenQueue,
  ...processes,
  ...named,
  ...groups,
  ...dedup,
  ...enqueueIn,
  ...typed,
  ...admin,
  ...http,
  ...cli,
  ...close,
  ...retry,
  ...queueProcesses,
];
