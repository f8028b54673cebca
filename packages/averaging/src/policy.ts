/**
 * Averaging policies: pure predicates deciding at which 0-based steps to update an averager.
 *
 * @module
 */
import { isCycleEnd } from "@wider/schedules";
import { AveragingConfigError } from "./Averager.js";

/** A predicate over 0-based steps (iterations or epochs, as the caller counts). */
export type Policy = (step: number) => boolean;

const checkInt = (field: string, value: number, min: number): void => {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new AveragingConfigError(`${field} is ${value}; use an integer >= ${min}`);
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
 * True at `start, start + every, start + 2 every, ...`.
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
 * rate collects the model.
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
