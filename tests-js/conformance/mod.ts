/**
 * Every conformance case, in file order. Runners import `allCases`.
 *
 * @module
 */

import type { Case } from "../harness/types.ts";
import { cases as keysTypes } from "./keys.types.ts";
import { cases as keysOrder } from "./keys.order.ts";
import { cases as valuesRoundtrip } from "./values.roundtrip.ts";
import { cases as valuesHost } from "./values.host.ts";
import { cases as valuesErrors } from "./values.errors.ts";
import { cases as valuesLimits } from "./values.limits.ts";
import { cases as kvu64 } from "./kvu64.ts";
import { cases as limits } from "./limits.ts";
import { cases as kvGet } from "./kv.get.ts";
import { cases as kvGetMany } from "./kv.getMany.ts";
import { cases as kvSet } from "./kv.set.ts";
import { cases as kvDelete } from "./kv.delete.ts";
import { cases as expiry } from "./expiry.ts";
import { cases as kvList } from "./kv.list.ts";
import { cases as kvListCursor } from "./kv.list.cursor.ts";
import { cases as atomicCheck } from "./atomic.check.ts";
import { cases as atomicMutate } from "./atomic.mutate.ts";
import { cases as atomicCommit } from "./atomic.commit.ts";
import { cases as atomicSum } from "./atomic.sum.ts";
import { cases as atomicInspect } from "./atomic.inspect.ts";
import { cases as versionstamp } from "./versionstamp.ts";
import { cases as kvCommitVersionstamp } from "./kv.commitVersionstamp.ts";
import { cases as kvWatch } from "./kv.watch.ts";
import { cases as kvReadYourWrites } from "./kv.readYourWrites.ts";
import { cases as queueEnqueue } from "./queue.enqueue.ts";
import { cases as queueListen } from "./queue.listen.ts";
import { cases as queueDeviations } from "./queue.deviations.ts";
import { cases as queueClose } from "./queue.close.ts";
import { cases as kvClose } from "./kv.close.ts";
import { cases as openKv } from "./openKv.ts";
import { cases as kvqExtensions } from "./kvq.extensions.ts";

/** All cases of the suite. */
export const allCases: Case[] = [
  ...keysTypes,
  ...keysOrder,
  ...valuesRoundtrip,
  ...valuesHost,
  ...valuesErrors,
  ...valuesLimits,
  ...kvu64,
  ...limits,
  ...kvGet,
  ...kvGetMany,
  ...kvSet,
  ...kvDelete,
  ...expiry,
  ...kvList,
  ...kvListCursor,
  ...atomicCheck,
  ...atomicMutate,
  ...atomicCommit,
  ...atomicSum,
  ...atomicInspect,
  ...versionstamp,
  ...kvCommitVersionstamp,
  ...kvWatch,
  ...kvReadYourWrites,
  ...queueEnqueue,
  ...queueListen,
  ...queueDeviations,
  ...queueClose,
  ...kvClose,
  ...openKv,
  ...kvqExtensions,
];
