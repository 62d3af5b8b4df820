/**
 * Counts and time bounds of every scenario, for the two modes. Full mode is the
 * benchmark (`make bench`); smoke mode (`make test`) uses tiny counts and only
 * checks that every message arrives and the results have the right shape.
 */
import type { ScenarioParams } from "./types.ts";

/** A mode's settings. */
export interface ModeConfig {
  /** Runs of the cheap scenarios; the median is reported. */
  runsFast: number;
  /** Runs of the big scenarios (drains of 20k and more, the 1M backlog). */
  runsBig: number;
  /** Commits of each disk floor measurement (lib/floor.ts). */
  floorCommits: number;
  /** Parameters by scenario id. */
  params: Record<string, ScenarioParams>;
}

function p(
  count: number,
  boundS: number,
  extra: Partial<ScenarioParams> = {},
): ScenarioParams {
  return {
    count,
    boundS,
    setupBoundS: 120,
    chunk: 100,
    delayMs: 0,
    verify: false,
    ...extra,
  };
}

/**
 * Full mode. The bounds matter only for slow systems: Deno and @deno/kv drain
 * a few thousand messages per second at best, so their 200k drain stops at
 * 60 s and reports the rate it reached.
 */
export const FULL: ModeConfig = {
  runsFast: 3,
  runsBig: 1,
  floorCommits: 3_000,
  params: {
    enqueue_seq: p(5_000, 30),
    enqueue_concurrent: p(20_000, 30),
    drain_20k: p(20_000, 60),
    drain_20k_4p: p(20_000, 60),
    drain_20k_2p: p(20_000, 60),
    latency: p(1_000, 30),
    lateness: p(20, 15, { delayMs: 1_000 }),
    kv_set_seq: p(5_000, 30),
    kv_get_seq: p(5_000, 30),
    kv_set_concurrent: p(20_000, 30),
    kv_get_concurrent: p(20_000, 30),
    kv_list: p(10_000, 30),
    backlog_1m: p(1_000_000, 300, { setupBoundS: 300 }),
    drain_1k: p(1_000, 30),
    drain_200k: p(200_000, 60),
    flood_set_1m: p(1_000_000, 300),
    flood_enqueue_1m: p(1_000_000, 300),
    idle_cpu: p(1, 10),
    cross_process: p(200, 60),
    drain_20k_named_idle: p(20_000, 60),
    named_drain_20k: p(20_000, 60),
    named_groups_20k: p(20_000, 60),
    named_dedup_20k: p(20_000, 60),
  },
};

/**
 * Smoke mode: 50 of everything (5 delayed messages of 200 ms), one run each,
 * with the read-back checks on.
 */
export const SMOKE: ModeConfig = {
  runsFast: 1,
  runsBig: 1,
  floorCommits: 50,
  params: {
    enqueue_seq: p(50, 20, { verify: true }),
    enqueue_concurrent: p(50, 20, { chunk: 10, verify: true }),
    drain_20k: p(50, 20, { verify: true }),
    drain_20k_4p: p(50, 20, { verify: true }),
    drain_20k_2p: p(50, 20, { verify: true }),
    latency: p(50, 20, { verify: true }),
    lateness: p(5, 20, { delayMs: 200, verify: true }),
    kv_set_seq: p(50, 20, { verify: true }),
    kv_get_seq: p(50, 20, { verify: true }),
    kv_set_concurrent: p(50, 20, { chunk: 10, verify: true }),
    kv_get_concurrent: p(50, 20, { chunk: 10, verify: true }),
    kv_list: p(50, 20, { verify: true }),
    backlog_1m: p(50, 20, { verify: true }),
    drain_1k: p(50, 20, { verify: true }),
    drain_200k: p(50, 20, { verify: true }),
    flood_set_1m: p(2_000, 20, { verify: true }),
    flood_enqueue_1m: p(2_000, 20, { verify: true }),
    idle_cpu: p(1, 1, { verify: true }),
    cross_process: p(10, 20, { verify: true }),
    drain_20k_named_idle: p(50, 20, { verify: true }),
    named_drain_20k: p(50, 20, { verify: true }),
    named_groups_20k: p(50, 20, { verify: true }),
    named_dedup_20k: p(50, 20, { verify: true }),
  },
};
