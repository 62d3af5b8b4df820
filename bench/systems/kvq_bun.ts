/** kvq on Bun, through the same npm package and N-API addon as Node. */
import { kvqSystem, npmEntry } from "./kvq_load.ts";

/** The system under test. */
export const system = kvqSystem(npmEntry(), "make build, npm/");
