/** kvq on Deno, through the JSR package (jsr/mod.ts, FFI transport). */
import { kvqSystem } from "./kvq_load.ts";

/** The system under test. */
export const system = kvqSystem(
  new URL("../../jsr/mod.ts", import.meta.url).href,
  "make build, jsr/",
);
