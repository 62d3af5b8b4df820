/**
 * The scenarios, as data: what each measures and which figures it reports.
 * Shared by the orchestrator (table, ratios, shape checks) and the children.
 */
import type { MetricSpec } from "./types.ts";

/** One scenario's description. */
export interface ScenarioInfo {
  /** Stable id, used on the command line and in results JSON. */
  id: string;
  /** One line for the table. */
  title: string;
  /** The figures it reports. */
  metrics: MetricSpec[];
  /** True for the cheap scenarios, repeated `runsFast` times (else `runsBig`). */
  fast: boolean;
  /** True when only kvq systems run it (the 1M backlog). */
  kvqOnly: boolean;
  /** The systems it runs on, when not every one (the others show n/a). */
  only?: string[];
  /** Systems it skips although they would otherwise run it. */
  except?: string[];
}

/**
 * kvq over KV Connect, where every commit is an HTTP round trip to one
 * server: the million-message and 200k scenarios would take most of the
 * run's time and say nothing the 20k ones do not.
 */
const REMOTE = "kvq-node-remote";

/** Whether `scenario` runs on the system `id` (a kvq row when `kvq`). */
export function runsOn(
  scenario: ScenarioInfo,
  id: string,
  kvq: boolean,
): boolean {
  if (scenario.kvqOnly && !kvq) return false;
  if (scenario.except?.includes(id)) return false;
  return !scenario.only || scenario.only.includes(id);
}

const rate: MetricSpec = { name: "rate", unit: "msg/s", better: "higher" };
const opsRate: MetricSpec = { name: "rate", unit: "op/s", better: "higher" };
/** Peak RSS of the benchmark process (for BullMQ: the Node client, not Redis). */
const peakRss: MetricSpec = { name: "peak_rss", unit: "MB", better: "lower" };
/** RSS of the Redis server holding the whole backlog (BullMQ rows only). */
const serverRss: MetricSpec = {
  name: "server_rss",
  unit: "MB",
  better: "lower",
  optional: true,
};

/** The plain drain run beside a named-queue drain, and the ratio of the two. */
const plainRate: MetricSpec = {
  name: "plain_rate",
  unit: "msg/s",
  better: "higher",
};
const plainRatio: MetricSpec = { name: "ratio", unit: "x", better: "higher" };

/** A second writer's waits during a flood (scenarios/flood.ts). */
const peerP99: MetricSpec = { name: "peer_p99", unit: "ms", better: "lower" };
const peerMax: MetricSpec = { name: "peer_max", unit: "ms", better: "lower" };

/** Every scenario, in the order the table shows them. */
export const SCENARIOS: ScenarioInfo[] = [
  {
    id: "enqueue_seq",
    title: "(1) sequential enqueue",
    metrics: [rate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "enqueue_concurrent",
    title: "(2) concurrent enqueue, chunks of 100",
    metrics: [rate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "drain_20k",
    title: "(3) drain 20k backlog, no-op handler",
    metrics: [rate],
    fast: false,
    kvqOnly: false,
  },
  {
    id: "drain_20k_4p",
    title: "(3b) drain 20k backlog, 4 worker processes",
    metrics: [rate],
    fast: false,
    kvqOnly: false,
    // The systems whose consumers share one store across processes.
    only: [
      "kvq-node",
      "kvq-node-pg",
      "pg-boss",
      "graphile-worker",
      "bunqueue-pg",
      "bullmq",
      "bullmq-aof",
      REMOTE,
    ],
  },
  {
    id: "drain_20k_2p",
    title: "(3c) drain 20k backlog, 2 worker processes",
    metrics: [rate],
    fast: false,
    kvqOnly: false,
    // How the drain over KV Connect scales from 1 to 2 to 4 processes.
    only: [REMOTE],
  },
  {
    id: "latency",
    title: "(4) enqueue-to-handler latency",
    metrics: [
      { name: "p50", unit: "ms", better: "lower" },
      { name: "p99", unit: "ms", better: "lower" },
    ],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "lateness",
    title: "(5) lateness of delayed messages",
    metrics: [
      { name: "p50", unit: "ms", better: "lower" },
      { name: "max", unit: "ms", better: "lower" },
    ],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "kv_set_seq",
    title: "(6) KV set, sequential",
    metrics: [opsRate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "kv_get_seq",
    title: "(6) KV get, sequential",
    metrics: [opsRate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "kv_set_concurrent",
    title: "(6) KV set, concurrent",
    metrics: [opsRate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "kv_get_concurrent",
    title: "(6) KV get, concurrent",
    metrics: [opsRate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "kv_list",
    title: "(6) KV list all keys",
    metrics: [
      { name: "ms", unit: "ms", better: "lower" },
      { name: "rate", unit: "key/s", better: "higher" },
    ],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "backlog_1m",
    title: "(7) drain 1M backlog",
    metrics: [rate, peakRss],
    fast: false,
    kvqOnly: true,
    except: [REMOTE],
  },
  {
    id: "drain_1k",
    title: "(8) drain 1k backlog",
    metrics: [rate],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "drain_200k",
    title: "(8) drain 200k backlog",
    metrics: [rate, peakRss, serverRss],
    fast: false,
    kvqOnly: false,
    except: [REMOTE],
  },
  {
    id: "flood_set_1m",
    title: "(9) 1M un-awaited sets",
    metrics: [opsRate, peakRss, peerP99, peerMax],
    fast: false,
    kvqOnly: true,
    except: [REMOTE],
  },
  {
    id: "flood_enqueue_1m",
    title: "(9) 1M un-awaited enqueues",
    metrics: [rate, peakRss, peerP99, peerMax],
    fast: false,
    kvqOnly: true,
    except: [REMOTE],
  },
  {
    id: "idle_cpu",
    title: "(10) idle listener and watcher",
    metrics: [{ name: "cpu_pct", unit: "% core", better: "lower" }],
    fast: true,
    kvqOnly: false,
  },
  {
    id: "cross_process",
    title: "(11) across processes",
    metrics: [
      { name: "delivery_p50", unit: "ms", better: "lower" },
      { name: "delivery_p99", unit: "ms", better: "lower" },
      // Systems without watch report delivery only.
      { name: "watch_p50", unit: "ms", better: "lower", optional: true },
      { name: "watch_p99", unit: "ms", better: "lower", optional: true },
    ],
    fast: true,
    kvqOnly: false,
    // Every system that delivers another process's enqueue within the
    // bound: not Deno's two (a 60 s poll) nor bunqueue's embedded SQLite
    // (never; bench/README.md).
    only: [
      "kvq-node",
      "kvq-deno",
      "kvq-bun",
      "kvq-node-pg",
      "pg-boss",
      "graphile-worker",
      "bunqueue-pg",
      "bullmq",
      "bullmq-aof",
      REMOTE,
    ],
  },
  // (12) kvq's named queues: each run a plain drain and the measured one
  // on the same store (scenarios/named.ts). Over KV Connect named queues
  // are keys (queues-on-kv.md), what (3) measures.
  ...[
    ["drain_20k_named_idle", "drain 20k, named queues idle beside it"],
    ["named_drain_20k", "drain 20k through a named queue"],
    ["named_groups_20k", "drain 20k, named, 1,000 ordering groups"],
    ["named_dedup_20k", "drain 20k, named, each with a dedup id"],
  ].map(([id, title]): ScenarioInfo => ({
    id,
    title: `(12) ${title}`,
    metrics: [rate, plainRate, plainRatio],
    fast: true,
    kvqOnly: true,
    except: [REMOTE],
  })),
];

/** Looks a scenario up by id; throws on an unknown id. */
export function scenarioInfo(id: string): ScenarioInfo {
  const found = SCENARIOS.find((s) => s.id === id);
  if (!found) throw new Error(`unknown scenario "${id}"`);
  return found;
}
