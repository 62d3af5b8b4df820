/**
 * Runs a function once the event loop turns: `setImmediate` where the
 * runtime has it (Node, Bun and Deno do), else a zero timer. Used to gather
 * what finishes in one turn (handler outcomes) into one report.
 *
 * @module
 */

const setImmediateFn = (globalThis as {
  setImmediate?: (f: () => void) => unknown;
}).setImmediate;

/** Calls `f` after the current turn of the event loop. */
export const later: (f: () => void) => void =
  typeof setImmediateFn === "function"
    ? (f) => setImmediateFn(f)
    : (f) => setTimeout(f, 0);
