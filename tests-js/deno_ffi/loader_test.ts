/**
 * What a user meets when kvq's native library cannot be opened. The loader
 * keeps its state per process, so each case runs a fresh Deno with its own
 * flags and environment, and reports the error it got as JSON.
 *
 * @module
 */

import { assert, assertEquals } from "../harness/assert.ts";

const mod = new URL("../../jsr/mod.ts", import.meta.url).href;

/** What a child saw: the error's class name and message, or "opened". */
interface Outcome {
  name: string;
  message: string;
}

async function attempt(
  flags: string[],
  body: string,
  env: Record<string, string> = {},
  module = mod,
): Promise<Outcome> {
  const script = `import { openKv, setLibraryPath } from ${
    JSON.stringify(module)
  };
try {
  ${body}
  console.log(JSON.stringify({ name: "opened", message: "" }));
} catch (e) {
  console.log(JSON.stringify({ name: e.constructor.name, message: e.message }));
}`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", ...flags, "-"],
    env: { DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = out.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const { stdout, stderr } = await out.output();
  const text = new TextDecoder().decode(stdout).trim();
  assert(
    text !== "",
    `no outcome; stderr: ${new TextDecoder().decode(stderr)}`,
  );
  return JSON.parse(text) as Outcome;
}

/** Asserts the error's class, and that its message holds every part. */
function expectError(o: Outcome, name: string, ...parts: string[]): void {
  assertEquals(o.name, name);
  for (const part of parts) assert(o.message.includes(part), o.message);
}

Deno.test("without --allow-ffi: Deno's NotCapable, naming the flag", async () => {
  const o = await attempt(
    ["--allow-read", "--allow-env"],
    `await openKv(":memory:");`,
  );
  expectError(o, "NotCapable", "--allow-ffi");
});

Deno.test("a wrong KVQ_LIB is an error naming it, no fallback", async () => {
  const o = await attempt(
    ["-A"],
    `await openKv(":memory:");`,
    { KVQ_LIB: "/nonexistent/libkvq_deno.so" },
  );
  expectError(
    o,
    "Error",
    "KVQ_LIB (/nonexistent/libkvq_deno.so)",
    "not tried (an earlier place was given)",
  );
  assert(
    o.message.startsWith("kvq: cannot load the native library"),
    o.message,
  );
});

Deno.test("a wrong setLibraryPath is an error naming it", async () => {
  const o = await attempt(
    ["-A"],
    `setLibraryPath("/nonexistent/kvq.so"); await openKv(":memory:");`,
  );
  expectError(o, "Error", "setLibraryPath() (/nonexistent/kvq.so)");
});

Deno.test("setLibraryPath with a URL that is not a file: TypeError", async () => {
  const o = await attempt(
    ["-A"],
    `setLibraryPath(new URL("https://example.com/kvq.so"));`,
  );
  assertEquals(o.name, "TypeError");
  assertEquals(o.message, "kvq: not a file URL: https://example.com/kvq.so");
});

Deno.test("setLibraryPath after the library is loaded throws", async () => {
  const o = await attempt(
    ["-A"],
    `(await openKv(":memory:")).close(); setLibraryPath("/x.so");`,
  );
  assertEquals(o.name, "Error");
  assertEquals(
    o.message,
    "kvq: setLibraryPath() must be called before the first openKv()",
  );
});

Deno.test("no library anywhere: the error names the platform, the package and what to install", async () => {
  // A copy of jsr/ with no target/ beside it: no repository build. Here
  // npm:kvq-deno resolves to node_modules/kvq-deno, with no platform
  // package installed.
  const root = new URL("../../", import.meta.url);
  await Deno.mkdir(new URL(".tmp/", root), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: new URL(".tmp/", root).pathname,
    prefix: "loader-test-",
  });
  try {
    await new Deno.Command("cp", {
      args: ["-r", new URL("jsr", root).pathname, `${dir}/jsr`],
    }).output();
    const o = await attempt(
      ["--allow-ffi", "--allow-read"],
      `await openKv(":memory:");`,
      {},
      `file://${dir}/jsr/mod.ts`,
    );
    const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
    expectError(
      o,
      "Error",
      `kvq: cannot load the native library for linux-${arch}-gnu`,
      `package kvq-deno-linux-${arch}-gnu@0.1.0: not installed`,
      "`npm install kvq-deno@0.1.0`",
      `repository build (${dir}/target/release/libkvq_deno.so): Could not open`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
