import { checkNonNegativeInt, checkRate } from "./errors.js";
import { linear } from "./linear.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link warmup}: rise linearly from 0 to `to` over `steps` steps. */
export interface WarmupOptions {
  /** Length of the warmup in steps, an integer `>= 0`; `0` gives `to` from step 0. */
  readonly steps: number;
  readonly to: number;
}

/**
 * Linear warmup from 0: `lr(s) = to * s / steps` for `s < steps`, then `to`.
 * Usually the first piece of a {@link join}.
 *
 * @example
 * warmup({ steps: 4, to: 0.1 })(1) // 0.025
 */
export const warmup = ({ steps, to }: WarmupOptions): Schedule => {
  checkNonNegativeInt("warmup", "steps", steps);
  checkRate("warmup", "to", to);
  return linear({ from: 0, to, steps });
};
