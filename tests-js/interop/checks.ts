/**
 * The output contract of every interop script, parent or child: one line per
 * check (`ok - name` or `FAIL - name: why`), then `N passed, N failed`, and
 * exit status 1 on any failure. Written on `node:` modules so Deno, Bun and
 * Node 24 share it.
 *
 * @module
 */

import process from "node:process";

/** What a finished child process left behind. */
export interface ChildOutput {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  /** Everything it printed on stdout. */
  stdout: string;
  /** Everything it printed on stderr. */
  stderr: string;
  /** True when the parent killed it for running too long. */
  timedOut: boolean;
}

/** Collects check outcomes and prints each as it happens. */
export class Checks {
  /** How many checks passed so far. */
  passed = 0;
  /** How many checks failed so far. */
  failed = 0;

  /** Records one check: passes when `ok`, else fails with `why`. */
  check(name: string, ok: boolean, why = "condition is false"): boolean {
    if (ok) {
      this.passed++;
      console.log(`ok - ${name}`);
    } else {
      this.failed++;
      console.log(`FAIL - ${name}: ${oneLine(why)}`);
    }
    return ok;
  }

  /** Records a check whose outcome is a difference: null means equal. */
  same(name: string, difference: string | null): boolean {
    return this.check(name, difference === null, difference ?? "");
  }

  /** Runs `body` as one check: it passes unless `body` throws. */
  async run(name: string, body: () => unknown): Promise<boolean> {
    try {
      await body();
      return this.check(name, true);
    } catch (e) {
      return this.check(name, false, describe(e));
    }
  }

  /**
   * Takes over a child's check lines under `prefix`, and fails once more if
   * the child timed out, exited non-zero without a failing line, or printed
   * no check at all (a child that cannot fail is no test).
   */
  absorb(prefix: string, child: ChildOutput): void {
    let seen = 0;
    let failedLines = 0;
    for (const line of child.stdout.split("\n")) {
      if (line.startsWith("ok - ")) {
        seen++;
        this.check(`${prefix}${line.slice(5)}`, true);
      } else if (line.startsWith("FAIL - ")) {
        seen++;
        failedLines++;
        const text = line.slice(7);
        const cut = text.indexOf(": ");
        this.check(
          `${prefix}${cut < 0 ? text : text.slice(0, cut)}`,
          false,
          cut < 0 ? "failed in the child" : text.slice(cut + 2),
        );
      }
    }
    const tail = lastLines(child.stderr || child.stdout);
    if (child.timedOut) {
      this.check(`${prefix}child finished in time`, false, `killed; ${tail}`);
    } else if (seen === 0) {
      this.check(
        `${prefix}child reported its checks`,
        false,
        `exit ${child.code}, no check line; ${tail}`,
      );
    } else if (child.code !== 0 && failedLines === 0) {
      this.check(`${prefix}child exit status`, false, `${child.code}; ${tail}`);
    }
  }

  /** Prints the summary line and exits: 0 when nothing failed, else 1. */
  finish(): never {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed === 0 ? 0 : 1);
  }
}

/** The JSON a child printed on its `@result ` line, or undefined. */
export function resultOf(child: ChildOutput): unknown {
  const line = child.stdout.split("\n").find((l) => l.startsWith("@result "));
  return line === undefined ? undefined : JSON.parse(line.slice(8));
}

/** Prints a child's result line for the parent (see {@link resultOf}). */
export function printResult(value: unknown): void {
  console.log(`@result ${JSON.stringify(value)}`);
}

/** A readable one-line account of a thrown value. */
export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " | ").slice(0, 600);
}

function lastLines(text: string): string {
  const lines = text.trim().split("\n").filter((l) => l.length > 0);
  return lines.length === 0 ? "(no output)" : lines.slice(-3).join(" | ");
}
