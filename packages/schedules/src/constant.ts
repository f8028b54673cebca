import { checkRate, checkStep } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/**
 * The same rate at every step: `lr(s) = lr`.
 *
 * @example
 * constant(0.05)(1000) // 0.05
 */
export const constant = (lr: number): Schedule => {
  checkRate("constant", "lr", lr);
  return (step) => {
    checkStep("constant", step);
    return lr;
  };
};
