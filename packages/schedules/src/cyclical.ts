import { checkCycle, checkRate, checkStep, fail } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link cyclical} and {@link triangular}: rates between `high` and `low`, period `cycle`. */
export interface CycleOptions {
  /** The largest rate (`a1` in the papers), finite and `>= low`. */
  readonly high: number;
  /** The smallest rate (`a2` in the papers), finite and `>= 0`. */
  readonly low: number;
  /** Cycle length in steps (iterations), an integer `>= 1` (`>= 2` and even for triangular). */
  readonly cycle: number;
}

/** Checks `high`, `low` (`0 <= low <= high`) shared by the cyclic schedules. */
export const checkHighLow = (where: string, high: number, low: number): void => {
  checkRate(where, "high", high);
  checkRate(where, "low", low);
  if (low > high) fail("low", low, `a rate <= high = ${high} (low is the minimum)`, where);
};

/**
 * The SWA paper's sawtooth: within each cycle of `c` steps the rate falls linearly from near
 * `high` to `low`. At 0-based step `s`, `t = ((s mod c) + 1) / c` and
 * `lr = (1 - t) * high + t * low`, so step `c - 1` of each cycle (where {@link isCycleEnd} is true)
 * has exactly `low`, and step `0` has `high - (high - low) / c`. This is the paper's
 * `t(i) = (((i - 1) mod c) + 1) / c` with the 1-based `i = s + 1`.
 * Values are clamped to `[low, high]` against rounding.
 *
 * @example
 * const s = cyclical({ high: 0.05, low: 0.01, cycle: 4 });
 * [0, 1, 2, 3, 4].map(s) // [0.04, 0.03, 0.02, 0.01, 0.04]
 */
export const cyclical = ({ high, low, cycle }: CycleOptions): Schedule => {
  checkHighLow("cyclical", high, low);
  checkCycle("cyclical", cycle);
  return (step) => {
    checkStep("cyclical", step);
    const t = ((step % cycle) + 1) / cycle;
    const lr = (1 - t) * high + t * low;
    return Math.min(high, Math.max(low, lr));
  };
};
