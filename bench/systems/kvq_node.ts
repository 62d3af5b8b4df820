/** kvq on Node, through the npm package (npm/, N-API addon). */
import { kvqSystem, npmEntry } from "./kvq_load.ts";

/** The system under test. */
export const system = kvqSystem(npmEntry(), "make build, npm/");
