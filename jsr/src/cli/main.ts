/**
 * The `kvq` command's dispatcher: `kvq <command> …`, one module per
 * command group (queues.ts: `kvq queues …`). The entry files pick the
 * runtime's `openKv`: npm/bin/kvq.mjs (`npx kvq`) and jsr/cli.ts
 * (`deno run -A jsr:@kvq/kvq/cli`).
 *
 * @module
 */

import type { KvStore } from "../kvqueue/types.ts";
import { isArgumentError } from "../fault.ts";
import { copyCommand } from "./copy.ts";
import { queuesCommand } from "./queues.ts";

/** What the command needs from its runtime. */
export interface CliContext {
  /**
   * Opens a database (a path or URL, as `openKv` takes it; `options` as
   * `openKv` takes them).
   */
  openKv(
    path: string,
    options?: { accessToken?: string },
  ): Promise<KvStore & { close(): void }>;
  /** Whether a local path exists (a missing file is not created). */
  exists?(path: string): boolean;
  /** Prints a line of output (default: console.log). */
  out?(line: string): void;
  /** Prints a line of error output (default: console.error). */
  err?(line: string): void;
}

/** A command group: runs with the words after its name. */
export type CliCommand = (
  args: string[],
  ctx: Required<CliContext>,
) => Promise<number>;

// One line per command group; each lives in its own file.
const COMMANDS: Record<string, { run: CliCommand; summary: string }> = {
  copy: {
    run: copyCommand,
    summary: "copy a store to another, resumable, verified (kvq copy --help)",
  },
  queues: {
    run: queuesCommand,
    summary: "inspect and manage named queues (kvq queues --help)",
  },
};

function usage(): string {
  return [
    "usage: kvq <command> [arguments]",
    "",
    "commands:",
    ...Object.entries(COMMANDS).map(([name, c]) =>
      `  ${name.padEnd(10)} ${c.summary}`
    ),
  ].join("\n");
}

/** An error the command reports as a one-line message, exit code 2. */
export class UsageError extends Error {
  /** A usage error with `message`. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Runs the `kvq` command with `argv` (the words after `kvq`); resolves
 * with the exit code: 0 on success, 1 when the operation failed, 2 for a
 * usage error.
 */
export async function runCli(
  argv: string[],
  context: CliContext,
): Promise<number> {
  const ctx: Required<CliContext> = {
    exists: () => true,
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    ...context,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    (name === undefined ? ctx.err : ctx.out)(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    ctx.err(`kvq: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest, ctx);
  } catch (error) {
    if (isUsage(error)) {
      ctx.err(`kvq ${name}: ${(error as Error).message}`);
      return 2;
    }
    ctx.err(`kvq ${name}: ${(error as Error)?.message ?? String(error)}`);
    return 1;
  }
}

/**
 * Whether `error` is the caller's mistake (exit code 2): a UsageError, or
 * a TypeError or RangeError kvq threw on a bad argument (a queue name, an
 * option; fault.ts). One with a kvq code is the operation's failure (exit
 * code 1):
 * a store that cannot be opened (KVQ_CANNOT_OPEN: a wrong token, a server
 * that does not answer) is not a usage error.
 */
function isUsage(error: unknown): boolean {
  return error instanceof UsageError || isArgumentError(error);
}
