import { checkNonNegativeInt, checkRate, checkStep } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link cosine}: go from `from` (step 0) to `to` (step `steps` and after). */
export interface CosineOptions {
  readonly from: number;
  readonly to: number;
  /** Length of the decay in steps, an integer `>= 0`; `0` gives `to` from step 0. */
  readonly steps: number;
}

/**
 * Cosine decay (optax `cosine_decay_schedule` with `alpha = to/from`):
 * `c = (1 + cos(pi * min(s, steps) / steps)) / 2`, `lr(s) = from * c + to * (1 - c)`.
 *
 * @example
 * cosine({ from: 0.1, to: 0.0, steps: 10 })(5) // 0.05
 */
export const cosine = ({ from, to, steps }: CosineOptions): Schedule => {
  checkRate("cosine", "from", from);
  checkRate("cosine", "to", to);
  checkNonNegativeInt("cosine", "steps", steps);
  return (step) => {
    checkStep("cosine", step);
    if (step >= steps) return to;
    const c = (1 + Math.cos((Math.PI * step) / steps)) / 2;
    // Weighted form: exactly `from` at step 0 (c = 1).
    return from * c + to * (1 - c);
  };
};
