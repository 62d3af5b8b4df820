/**
 * Compares the symbol table deno_bindgen generated for kvq-deno (the file
 * given as the argument) with the one kvq ships, jsr/ffi/symbols.ts, and
 * exits non-zero on any difference. Run by crates/kvq-deno/bindgen.sh.
 *
 * @module
 */

import { symbols } from "../../jsr/ffi/symbols.ts";

interface Entry {
  parameters: readonly string[];
  result: string;
  nonblocking: boolean;
}

/** Reads the `name: { parameters, result, nonblocking }` entries. */
function parseGenerated(text: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const pattern =
    /(\w+): \{\s*parameters: \[([^\]]*)\],\s*result: '(\w+)',\s*nonblocking: (true|false)/g;
  for (const match of text.matchAll(pattern)) {
    const parameters = [...match[2].matchAll(/'(\w+)'/g)].map((m) => m[1]);
    entries.set(match[1], {
      parameters,
      result: match[3],
      nonblocking: match[4] === "true",
    });
  }
  return entries;
}

const file = Deno.args[0];
if (!file) throw new Error("usage: check_bindings.ts GENERATED_FILE");
const generated = parseGenerated(Deno.readTextFileSync(file));
const shipped = new Map<string, Entry>(Object.entries(symbols));
const problems: string[] = [];
for (const [name, entry] of generated) {
  const ours = shipped.get(name);
  if (!ours) problems.push(`${name}: generated, missing in symbols.ts`);
  else if (JSON.stringify(ours) !== JSON.stringify(entry)) {
    problems.push(
      `${name}: generated ${JSON.stringify(entry)}, symbols.ts ${
        JSON.stringify(ours)
      }`,
    );
  }
}
for (const name of shipped.keys()) {
  if (!generated.has(name)) problems.push(`${name}: not in the library`);
}
if (generated.size === 0) problems.push(`no symbols found in ${file}`);
if (problems.length > 0) {
  console.error("jsr/ffi/symbols.ts differs from deno_bindgen's output:");
  for (const p of problems) console.error("  " + p);
  Deno.exit(1);
}
console.log(
  `jsr/ffi/symbols.ts matches deno_bindgen (${generated.size} symbols)`,
);
