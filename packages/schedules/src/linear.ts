import { checkNonNegativeInt, checkRate, checkStep } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link linear}: go from `from` (step 0) to `to` (step `steps` and after). */
export interface LinearOptions {
  readonly from: number;
  readonly to: number;
  /** Length of the ramp in steps, an integer `>= 0`; `0` gives `to` from step 0. */
  readonly steps: number;
}

/**
 * Linear ramp: `lr(s) = from + (to - from) * s / steps` for `s < steps`, then `to`.
 *
 * @example
 * linear({ from: 0.1, to: 0.0, steps: 10 })(5) // 0.05
 */
export const linear = ({ from, to, steps }: LinearOptions): Schedule => {
  checkRate("linear", "from", from);
  checkRate("linear", "to", to);
  checkNonNegativeInt("linear", "steps", steps);
  return (step) => {
    checkStep("linear", step);
    // step / steps < 1 first: (to - from) * step could overflow for huge rates.
    return step >= steps ? to : from + (to - from) * (step / steps);
  };
};
