import { checkPositiveInt, checkRate, checkStep, fail } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link exponential}: multiply the rate by `decay` every `steps` steps. */
export interface ExponentialOptions {
  readonly from: number;
  /**
   * Factor applied per `steps` steps, in `(0, 1]` (`< 1` decays, `1` is constant): a factor `> 1`
   * would grow the rate without bound (to `Infinity`), so it is refused.
   */
  readonly decay: number;
  /** Steps per factor of `decay`, an integer `>= 1`. */
  readonly steps: number;
  /** When true, decay in whole stairs: exponent `floor(s / steps)` (default false). */
  readonly staircase?: boolean;
}

/**
 * Exponential decay (optax `exponential_decay`): `lr(s) = from * decay ^ (s / steps)`,
 * or `from * decay ^ floor(s / steps)` with `staircase`.
 *
 * @example
 * exponential({ from: 0.1, decay: 0.5, steps: 10 })(20) // 0.025
 */
export const exponential = ({
  from,
  decay,
  steps,
  staircase = false,
}: ExponentialOptions): Schedule => {
  checkRate("exponential", "from", from);
  if (typeof decay !== "number" || !(decay > 0 && decay <= 1))
    fail(
      "decay",
      decay,
      "a number in (0, 1] (the factor per `steps` steps; above 1 the rate would grow to Infinity)",
      "exponential",
    );
  checkPositiveInt("exponential", "steps", steps);
  return (step) => {
    checkStep("exponential", step);
    const p = staircase ? Math.floor(step / steps) : step / steps;
    return from * decay ** p;
  };
};
