import { checkArray, checkBoundaries, checkRate, checkStep, fail } from "./errors.js";
import type { Schedule } from "./Schedule.js";

/** Options of {@link piecewiseConstant}: `values[k]` from step `boundaries[k-1]` on. */
export interface PiecewiseConstantOptions {
  /** Strictly increasing integer steps `>= 1`; boundary `k` is the first step of `values[k+1]`. */
  readonly boundaries: readonly number[];
  /** One more rate than boundaries. */
  readonly values: readonly number[];
}

/** Number of boundaries `<= step`: the index of the piece that `step` falls in. */
export const pieceIndex = (boundaries: readonly number[], step: number): number => {
  let k = 0;
  while (k < boundaries.length && step >= (boundaries[k] as number)) k++;
  return k;
};

/**
 * Step decay: `lr(s) = values[k]` where `k` is the number of boundaries `<= s`.
 *
 * @example
 * const s = piecewiseConstant({ boundaries: [100, 150], values: [0.1, 0.01, 0.001] });
 * [s(99), s(100), s(150)] // [0.1, 0.01, 0.001]
 */
export const piecewiseConstant = ({ boundaries, values }: PiecewiseConstantOptions): Schedule => {
  const bs = checkBoundaries("piecewiseConstant", boundaries, 1);
  const vs = checkArray("piecewiseConstant", "values", values, checkRate);
  if (vs.length !== bs.length + 1)
    fail(
      "values",
      values,
      `${bs.length + 1} rates (one more than boundaries, which has ${bs.length})`,
      "piecewiseConstant",
    );
  return (step) => {
    checkStep("piecewiseConstant", step);
    return vs[pieceIndex(bs, step)] as number;
  };
};
