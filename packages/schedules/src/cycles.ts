import { checkCycle, checkStep } from "./errors.js";

/**
 * The 0-based index of the cycle a step falls in: `floor(step / cycle)`.
 *
 * @example
 * cycleIndex(4)(7) // 1
 */
export const cycleIndex = (cycle: number): ((step: number) => number) => {
  checkCycle("cycleIndex", cycle);
  return (step) => {
    checkStep("cycleIndex", step);
    return Math.floor(step / cycle);
  };
};

/**
 * True at the last step of each cycle, `step % cycle === cycle - 1`: where {@link cyclical} has
 * `low` and where SWA collects the model (after that step's update).
 *
 * @example
 * [2, 3, 7].map(isCycleEnd(4)) // [false, true, true]
 */
export const isCycleEnd = (cycle: number): ((step: number) => boolean) => {
  checkCycle("isCycleEnd", cycle);
  return (step) => {
    checkStep("isCycleEnd", step);
    return step % cycle === cycle - 1;
  };
};

/**
 * True at the middle step of each cycle, `step % cycle === cycle / 2`: the step where
 * {@link triangular} has exactly `low` (FGE's snapshot point). `cycle` must be even.
 *
 * @example
 * [1, 2, 6].map(isCycleMidpoint(4)) // [false, true, true]
 */
export const isCycleMidpoint = (cycle: number): ((step: number) => boolean) => {
  checkCycle("isCycleMidpoint", cycle, true);
  const mid = cycle / 2;
  return (step) => {
    checkStep("isCycleMidpoint", step);
    return step % cycle === mid;
  };
};
