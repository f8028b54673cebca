/**
 * Averaging policies: pure predicates deciding at which 0-based steps to update an averager.
 *
 * Step semantics: a policy sees whatever step its caller passes, and nothing re-bases it.
 * `averagingCallback` passes its own absolute global step (batches since `initialStep`), which is
 * NOT the step a `join`ed schedule's piece sees (`join` re-bases each piece to its boundary): with
 * `join([pretrain, cyclical({ cycle: 100, ... })], [1050])`, `atCycleEnds(100)` on absolute steps
 * is true at 1099, 1199, ..., mid-cycle. `swaCallback` calls its `collect` policy with
 * `step - start` instead, on the same step its learning rate was computed for.
 *
 * @module
 */
import { isCycleEnd } from "@wider/schedules";
import { fail } from "./errors.js";

/**
 * A predicate over 0-based steps (iterations or epochs, as the caller counts): absolute global
 * steps in `averagingCallback`, steps re-based to `start` in `swaCallback`.
 */
export type Policy = (step: number) => boolean;

const checkInt = (field: string, value: number, min: number): void => {
  if (!Number.isSafeInteger(value) || value < min) {
    fail("config", `${field} is ${value}; use an integer >= ${min}`, {
      path: field,
      value,
      fix: `an integer >= ${min}`,
    });
  }
};

/** Options of {@link when}. */
export interface WhenOptions {
  /** The first step to average at (default 0). */
  readonly start?: number;
  /** Average every `every` steps from `start` on (default 1). */
  readonly every?: number;
}

/**
 * True at `start, start + every, start + 2 every, ...` of the step it is given (absolute in
 * `averagingCallback`; re-based to the callback's `start` in `swaCallback`, where `start` here
 * is an extra offset on top of it).
 *
 * @example
 * [0, 10, 12, 14].map(when({ start: 10, every: 2 })) // [false, true, true, true]
 */
export const when = (options: WhenOptions = {}): Policy => {
  const start = options.start ?? 0;
  const every = options.every ?? 1;
  checkInt("when: start", start, 0);
  checkInt("when: every", every, 1);
  return (step) => step >= start && (step - start) % every === 0;
};

/**
 * True at the last step of each cycle of length `cycle` (`isCycleEnd` from `@wider/schedules`,
 * `step % cycle === cycle - 1`), from step `start` on (default 0): where SWA with a cyclical
 * rate collects the model. Cycles are counted from step 0 of the step it is given, and `start`
 * does NOT shift them: with absolute steps this matches only a `cyclical` that starts at step 0.
 * For a `cyclical` that starts later (a `join` boundary `b`), give it the step re-based to `b`,
 * as `swaCallback({ start: b, collect: atCycleEnds(cycle) })` does.
 *
 * @example
 * [3, 7, 8].map(atCycleEnds(4)) // [true, true, false]
 */
export const atCycleEnds = (cycle: number, options: { readonly start?: number } = {}): Policy => {
  const start = options.start ?? 0;
  checkInt("atCycleEnds: start", start, 0);
  const end = isCycleEnd(cycle);
  return (step) => step >= start && end(step);
};
