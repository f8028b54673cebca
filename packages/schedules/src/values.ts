import { checkNonNegativeInt } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/**
 * Tabulates a schedule: the rates at steps `0 .. steps - 1`.
 *
 * @example
 * values(cyclical({ high: 0.05, low: 0.01, cycle: 2 }), 3) // [0.03, 0.01, 0.03]
 */
export const values = (schedule: Schedule, steps: number): number[] => {
  checkNonNegativeInt("values", "steps", steps);
  const out = new Array<number>(steps);
  for (let s = 0; s < steps; s++) out[s] = schedule(s);
  return out;
};
