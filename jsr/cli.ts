/**
 * The `kvq` command on Deno, from the JSR package:
 *
 * ```sh
 * deno run -A jsr:@kvq/kvq/cli queues list app.db
 * ```
 *
 * The same command as `npx kvq` (jsr/src/cli/main.ts).
 *
 * @module
 */

import { openKv, runCli } from "./mod.ts";

if (import.meta.main) {
  const exists = (path: string) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  };
  Deno.exit(await runCli(Deno.args, { openKv, exists }));
}
