// The smoke test every packaged platform runs: open a file, set and get,
// enqueue and receive through listenQueue, close, reopen and read back.
// Plain JavaScript, so that Node 20, Node 24, Bun and Deno run it as it is,
// natively or under qemu-user. Prints "ok" last when everything held.

/** Throws with `what` unless `cond` holds. */
function check(cond, what) {
  if (!cond) throw new Error(`smoke: ${what}`);
}

/** Runs the smoke test against `openKv`, on a new file in the directory. */
export async function smoke(openKv) {
  const path = `smoke-${Date.now()}-${
    Math.random().toString(36).slice(2)
  }.sqlite3`;
  const kv = await openKv(path);
  try {
    await kv.set(["smoke", 1], { hello: "world", n: 42n });
    const got = await kv.get(["smoke", 1]);
    check(got.value?.hello === "world" && got.value.n === 42n, "get after set");
    check(typeof got.versionstamp === "string", "versionstamp");
    const received = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("smoke: no message within 60 s")),
        60_000,
      );
      kv.listenQueue((message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
    await kv.enqueue({ job: "smoke" });
    check((await received)?.job === "smoke", "listenQueue got the message");
  } finally {
    kv.close();
  }
  const again = await openKv(path);
  try {
    check(
      (await again.get(["smoke", 1])).value?.n === 42n,
      "read after reopen",
    );
  } finally {
    again.close();
  }
  console.log("ok");
}
