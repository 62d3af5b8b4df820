// The smoke test through the npm package, as a user imports it (Node, Bun).
import { openKv } from "kvq";
import { smoke } from "./smoke_lib.mjs";

await smoke(openKv);
