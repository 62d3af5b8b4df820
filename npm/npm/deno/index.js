// kvq-deno: where kvq's FFI library for this platform is. jsr:@kvq/kvq
// imports this package as npm:kvq-deno@<its own version>; the library
// itself is in the package for the platform (kvq-deno-linux-x64-gnu, ...),
// an optional dependency that npm and Deno install only where its os and
// cpu match. Resolving a path needs no permission; opening it is
// Deno.dlopen's, in jsr/ffi/loader.ts.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** This package's version: every kvq package of one release shares it. */
export const version = require("./package.json").version;

/** The platforms kvq ships a Deno library for. */
export const platforms = Object.freeze(["linux-x64-gnu", "linux-arm64-gnu"]);

/** The library's file name inside each platform package. */
const FILE = "libkvq_deno.so";

/**
 * Where the library for `platform` is: `{ package, path }`, or
 * `{ package, error }` saying why it is not there.
 */
export function findLibrary(platform) {
  const name = `kvq-deno-${platform}`;
  const spec = `${name}@${version}`;
  if (!platforms.includes(platform)) {
    return {
      package: spec,
      error: `kvq ships no library for ${platform} (only for ${
        platforms.join(", ")
      })`,
    };
  }
  let found;
  try {
    found = require(`${name}/package.json`).version;
  } catch {
    return { package: spec, error: "not installed" };
  }
  if (found !== version) {
    return {
      package: spec,
      error: `version ${found} installed, kvq-deno ${version} needs ${version}`,
    };
  }
  try {
    return { package: spec, path: require.resolve(`${name}/${FILE}`) };
  } catch {
    return { package: spec, error: `installed without its ${FILE}` };
  }
}
