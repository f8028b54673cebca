import { checkBoundaries, checkStep, fail } from "./errors.js";
import { pieceIndex } from "./piecewiseConstant.js";
import type { Schedule } from "./Schedule.js";

/**
 * Chains schedules (optax `join_schedules`): piece `k` runs from step `boundaries[k-1]` (0 for the
 * first) and sees the step re-based to it: `lr(s) = schedules[k](s - boundaries[k-1])`.
 *
 * @example
 * const s = join([warmup({ steps: 5, to: 0.1 }), constant(0.05)], [5]);
 * [s(4), s(5)] // [0.08, 0.05]
 */
export const join = (schedules: readonly Schedule[], boundaries: readonly number[]): Schedule => {
  if (!Array.isArray(schedules) || schedules.some((s) => typeof s !== "function"))
    fail("schedules", schedules, "an array of schedules (functions)", "join");
  const bs = checkBoundaries("join", boundaries, 1);
  if (schedules.length !== bs.length + 1)
    fail(
      "schedules",
      `${schedules.length} schedules`,
      `${bs.length + 1} schedules (one more than boundaries, which has ${bs.length})`,
      "join",
    );
  const starts = [0, ...bs];
  return (step) => {
    checkStep("join", step);
    const k = pieceIndex(bs, step);
    return (schedules[k] as Schedule)(step - (starts[k] as number));
  };
};
