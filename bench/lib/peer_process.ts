/**
 * Starts bench/peer.ts: a second process on the run's database, same
 * runtime, same adapter (scenarios/cross.ts and scenarios/flood.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RunContext } from "./types.ts";

const peerScript = fileURLToPath(new URL("../peer.ts", import.meta.url));

/** A running peer: its process, and its stdout as lines. */
export interface Peer {
  /** The child process (write commands to its stdin). */
  child: ChildProcess;
  /** Resolves with the next line the peer prints. */
  nextLine(): Promise<string>;
  /** Tells the peer to quit and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts the peer in `mode` and waits until it printed "ready". */
export async function startPeer(
  mode: "relay" | "tick" | "consume",
  run: RunContext,
): Promise<Peer> {
  const [cmd, ...args] = run.runtimeCommand;
  const child = spawn(cmd, [
    ...args,
    peerScript,
    mode,
    run.adapterUrl,
    run.dir,
    JSON.stringify(run.context),
  ], { stdio: ["pipe", "pipe", "inherit"] });
  // The peer may exit between our last look and a write to its stdin: that
  // write's EPIPE is no failure of the run.
  child.stdin?.on("error", () => {});
  let buffered = "";
  const waiting: ((line: string) => void)[] = [];
  const lines: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let i;
    while ((i = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", resolve));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      exited.then(() => reject(new Error("the peer exited early")));
    });
  const ready = await nextLine();
  if (ready !== "ready") throw new Error(`peer: ${ready}`);
  return {
    child,
    nextLine,
    async stop() {
      if (child.exitCode === null) child.stdin?.end("quit\n");
      await exited;
    },
  };
}
