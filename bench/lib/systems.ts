/**
 * The systems the orchestrator knows: how to start each one's child process.
 * Adding a system is one entry here and one adapter file in systems/.
 */

/** The runtimes a child can run on. */
export type Runtime = "node" | "deno" | "bun";

/** One system under test. */
export interface SystemInfo {
  /** Stable id, used on the command line and in results JSON. */
  id: string;
  /** Column heading. */
  label: string;
  /** Runtime of its child process. */
  runtime: Runtime;
  /** Adapter module, relative to bench/. */
  adapter: string;
  /** True for kvq rows: they run the kvq-only scenarios and get ratios. */
  kvq: boolean;
  /** The Redis server it needs, if any: memory only, or AOF with fsync every second. */
  redis?: "memory" | "aof";
}

/** Every system, in the order of the table's columns (kvq first). */
export const SYSTEMS: SystemInfo[] = [
  {
    id: "kvq-node",
    label: "kvq/Node",
    runtime: "node",
    adapter: "./systems/kvq_node.ts",
    kvq: true,
  },
  {
    id: "kvq-deno",
    label: "kvq/Deno",
    runtime: "deno",
    adapter: "./systems/kvq_deno.ts",
    kvq: true,
  },
  {
    id: "kvq-bun",
    label: "kvq/Bun",
    runtime: "bun",
    adapter: "./systems/kvq_bun.ts",
    kvq: true,
  },
  {
    id: "kvq-node-pg",
    label: "kvq/Node/Postgres",
    runtime: "node",
    adapter: "./systems/kvq_node_pg.ts",
    kvq: true,
  },
  {
    id: "kvq-node-remote",
    label: "kvq/Node/KV Connect",
    runtime: "node",
    adapter: "./systems/kvq_node_remote.ts",
    kvq: true,
  },
  {
    id: "deno",
    label: "Deno.openKv",
    runtime: "deno",
    adapter: "./systems/deno_builtin.ts",
    kvq: false,
  },
  {
    id: "deno-kv-npm",
    label: "@deno/kv/Node",
    runtime: "node",
    adapter: "./systems/deno_kv_npm.ts",
    kvq: false,
  },
  {
    id: "pg-boss",
    label: "pg-boss/Postgres",
    runtime: "node",
    adapter: "./systems/pg_boss.ts",
    kvq: false,
  },
  {
    id: "graphile-worker",
    label: "graphile-worker/Postgres",
    runtime: "node",
    adapter: "./systems/graphile_worker.ts",
    kvq: false,
  },
  {
    id: "bunqueue-pg",
    label: "bunqueue/Postgres",
    runtime: "bun",
    adapter: "./systems/bunqueue_pg.ts",
    kvq: false,
  },
  {
    id: "bunqueue-sqlite",
    label: "bunqueue/SQLite",
    runtime: "bun",
    adapter: "./systems/bunqueue_sqlite.ts",
    kvq: false,
  },
  {
    id: "bullmq",
    label: "BullMQ+Redis(mem)",
    runtime: "node",
    adapter: "./systems/bullmq.ts",
    kvq: false,
    redis: "memory",
  },
  {
    id: "bullmq-aof",
    label: "BullMQ+Redis(AOF)",
    runtime: "node",
    adapter: "./systems/bullmq.ts",
    kvq: false,
    redis: "aof",
  },
];
