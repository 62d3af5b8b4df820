/** Maps scenario ids (lib/scenario_list.ts) to their implementations. */
import type { Scenario } from "./common.ts";
import { crossLatency } from "./cross.ts";
import { drain, drainBy } from "./drain.ts";
import { enqueueConcurrent, enqueueSeq } from "./enqueue.ts";
import {
  kvGetConcurrent,
  kvGetSeq,
  kvList,
  kvSetConcurrent,
  kvSetSeq,
} from "./kv.ts";
import { floodEnqueue, floodSet } from "./flood.ts";
import { idleCpu } from "./idle.ts";
import { latency } from "./latency.ts";
import { lateness } from "./lateness.ts";
import {
  drainBesideNamed,
  namedDedup,
  namedGroups,
  namedPlain,
} from "./named.ts";

/** Implementation of each scenario id. */
export const IMPLEMENTATIONS: Record<string, Scenario> = {
  enqueue_seq: enqueueSeq,
  enqueue_concurrent: enqueueConcurrent,
  drain_20k: drain,
  drain_20k_4p: drainBy(4),
  drain_20k_2p: drainBy(2),
  latency,
  lateness,
  kv_set_seq: kvSetSeq,
  kv_get_seq: kvGetSeq,
  kv_set_concurrent: kvSetConcurrent,
  kv_get_concurrent: kvGetConcurrent,
  kv_list: kvList,
  backlog_1m: drain,
  drain_1k: drain,
  drain_200k: drain,
  flood_set_1m: floodSet,
  flood_enqueue_1m: floodEnqueue,
  idle_cpu: idleCpu,
  cross_process: crossLatency,
  named_drain_20k: namedPlain,
  named_groups_20k: namedGroups,
  named_dedup_20k: namedDedup,
  drain_20k_named_idle: drainBesideNamed,
};
