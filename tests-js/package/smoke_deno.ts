// The smoke test through the JSR package, as a user imports it (Deno).
import { openKv } from "@kvq/kvq";
import { smoke } from "./smoke_lib.mjs";

await smoke(openKv);
