import { type CycleOptions, checkHighLow } from "./cyclical.js";
import { checkCycle, checkStep } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/**
 * FGE's triangular cycle (Garipov et al. 2018): `high` -> `low` -> `high` over `cycle` steps.
 * At 0-based step `s`, `t = (s mod c) / c` and
 * `lr = high * (1 - 2t) + low * 2t` for `t < 0.5`, else `high * (2t - 1) + low * (2 - 2t)`.
 * So step `0` of each cycle has `high` and **step `c/2` of each cycle (`s mod c === c/2`) has
 * exactly `low`**: that is the midpoint ({@link isCycleMidpoint}). `cycle` must be even so this
 * step exists. FGE's per-iteration form `t = ((epoch mod E) + iter / itersPerEpoch) / E` is this
 * with `c = E * itersPerEpoch` and `s = epoch * itersPerEpoch + iter`.
 * Values are clamped to `[low, high]` against rounding.
 *
 * @example
 * const s = triangular({ high: 0.05, low: 0.01, cycle: 4 });
 * [0, 1, 2, 3, 4].map(s) // [0.05, 0.03, 0.01, 0.03, 0.05]
 */
export const triangular = ({ high, low, cycle }: CycleOptions): Schedule => {
  checkHighLow("triangular", high, low);
  checkCycle("triangular", cycle, true);
  return (step) => {
    checkStep("triangular", step);
    const t = (step % cycle) / cycle;
    // Weights first (low * 2 would overflow for rates near Number.MAX_VALUE, and * 0 give NaN).
    const lr =
      t < 0.5 ? high * (1 - 2 * t) + low * (2 * t) : high * (2 * t - 1) + low * (2 - 2 * t);
    return Math.min(high, Math.max(low, lr));
  };
};
