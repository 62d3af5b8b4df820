/**
 * What this machine's disk allows one writer that waits for each commit, measured
 * in the same run as the systems and on the same file system: the ceiling of
 * every "sequential" figure (each resolved enqueue or set is on disk).
 *
 * Runs kvq-core's `fsync_floor` example (built by `make bench`): a bare
 * rusqlite loop at WAL + synchronous=FULL, and 4 KB written in place plus
 * fdatasync with no SQLite at all.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

const rootDir = fileURLToPath(new URL("../..", import.meta.url));
const binary = rootDir + "target/release/examples/fsync_floor";

/** One measurement of the floor. */
export interface Floor {
  /** One-row SQLite commits per second, one fsync each. */
  sqliteCommitsPerSecond: number;
  /** 4 KB in-place writes plus fdatasync per second. */
  rawSyncsPerSecond: number;
}

/**
 * Measures the floor with `count` commits in `dir`. Returns why not, as a
 * string, when the example is not built or fails.
 */
export function measureFloor(count: number, dir: string): Floor | string {
  if (!existsSync(binary)) {
    return "not built: cargo build --release -p kvq-core --example fsync_floor";
  }
  const run = spawnSync(binary, [String(count)], {
    env: { ...process.env, TMPDIR: dir },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (run.status !== 0) {
    return `fsync_floor failed (${run.status ?? run.signal}): ${run.stderr}`;
  }
  try {
    const out = JSON.parse(run.stdout) as {
      sqlite_commits_per_second: number;
      raw_syncs_per_second: number;
    };
    return {
      sqliteCommitsPerSecond: out.sqlite_commits_per_second,
      rawSyncsPerSecond: out.raw_syncs_per_second,
    };
  } catch {
    return `fsync_floor printed no result: ${run.stdout}`;
  }
}

/** One line for the report. */
export function floorLine(when: string, floor: Floor | string): string {
  if (typeof floor === "string") return `disk floor ${when}: ${floor}`;
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return `disk floor ${when}: SQLite ${
    n(floor.sqliteCommitsPerSecond)
  } commits/s, raw 4 KB write + fdatasync ${n(floor.rawSyncsPerSecond)}/s`;
}
