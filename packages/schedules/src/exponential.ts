import type { Schedule } from "./Schedule.js";
import { checkPositive, checkPositiveInt, checkRate, checkStep } from "./ScheduleError.js";

/** Options of {@link exponential}: multiply the rate by `decay` every `steps` steps. */
export interface ExponentialOptions {
  readonly from: number;
  /** Factor applied per `steps` steps, a finite number `> 0` (`< 1` decays). */
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
  checkPositive("exponential", "decay", decay);
  checkPositiveInt("exponential", "steps", steps);
  return (step) => {
    checkStep("exponential", step);
    const p = staircase ? Math.floor(step / steps) : step / steps;
    return from * decay ** p;
  };
};
