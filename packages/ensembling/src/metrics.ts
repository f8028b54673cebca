/**
 * Metrics for a prediction set (class probabilities + integer labels):
 * accuracy, negative log-likelihood, Brier score and expected calibration
 * error. All are computed in double precision on the host; tensors are read
 * with `dataSync` and not disposed (the caller keeps ownership).
 *
 * Conventions (n samples, K classes, p_ik the probability of class k for
 * sample i, y_i its label):
 * - accuracy: fraction of samples whose argmax (first index on ties) equals y_i.
 * - NLL: mean_i -ln(clip(p_{i,y_i}, eps, 1)) with eps = 1e-12 by default, so a
 *   sample with p = 0 contributes -ln(1e-12) ~= 27.63 instead of Infinity.
 * - Brier: mean_i sum_k (p_ik - [k = y_i])^2, the original multi-class score of
 *   Brier (1950), in [0, 2]; some libraries divide this by K, we do not.
 * - ECE (Guo et al. 2017): confidence c_i = max_k p_ik, M equal-width bins
 *   B_m = (m/M, (m+1)/M] (c = 0 goes to the first bin),
 *   ECE = sum_m |B_m|/n * |acc(B_m) - conf(B_m)|, M = 15 by default.
 *
 * @module metrics
 */

import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type EnsemblingError, ensemblingError, fail } from "./errors.js";
import {
  type LabelInput,
  type ProbabilityInput,
  type ProbabilityMatrix,
  readLabels,
  readProbabilities,
  rowArgMax,
} from "./predictionSet.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** All four metrics of a prediction set, as plain JSON-able numbers. */
export interface PredictionMetrics {
  readonly count: number;
  readonly accuracy: number;
  readonly nll: number;
  readonly brier: number;
  readonly ece: number;
}

/** One bin of a reliability diagram: `(lower, upper]`, its sample count, mean accuracy and mean confidence (0 when empty). */
export interface ReliabilityBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  readonly accuracy: number;
  readonly confidence: number;
}

/** Options of {@link negativeLogLikelihood}: `epsilon` is the lower clip of the true-class probability (default 1e-12). */
export interface NllOptions {
  readonly epsilon?: number;
}

/** Options of the calibration metrics: `bins` equal-width confidence bins (default 15, as in Guo et al. 2017). */
export interface CalibrationOptions {
  readonly bins?: number;
}

/** Default number of ECE bins (Guo et al. 2017). */
export const DEFAULT_ECE_BINS = 15;

/** Default lower clip of the true-class probability in the NLL. */
export const DEFAULT_NLL_EPSILON = 1e-12;

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

interface Labeled {
  readonly m: ProbabilityMatrix;
  readonly y: Int32Array;
}

const readSet = (probs: ProbabilityInput, labels: LabelInput): E.Either<EnsemblingError, Labeled> =>
  pipe(
    readProbabilities(probs),
    E.chain((m) =>
      m.n === 0
        ? E.left(
            ensemblingError("shape", "probabilities have 0 samples; pass at least one prediction"),
          )
        : E.right(m),
    ),
    E.chain((m) =>
      pipe(
        readLabels(labels, m.n, m.k),
        E.map((y) => ({ m, y })),
      ),
    ),
  );

const checkBins = (bins: number): E.Either<EnsemblingError, number> =>
  Number.isInteger(bins) && bins >= 1
    ? E.right(bins)
    : fail("config", `bins was ${bins}; pass a positive integer (default 15)`, {
        path: "bins",
        value: bins,
        fix: "a positive integer (default 15)",
      });

const checkEpsilon = (epsilon: number): E.Either<EnsemblingError, number> =>
  epsilon > 0 && epsilon < 1
    ? E.right(epsilon)
    : fail("config", `epsilon was ${epsilon}; pass a number in (0, 1) (default 1e-12)`, {
        path: "epsilon",
        value: epsilon,
        fix: "a number in (0, 1) (default 1e-12)",
      });

const accuracyOf = ({ m, y }: Labeled): number => {
  let correct = 0;
  for (let i = 0; i < m.n; i++) if (rowArgMax(m, i) === y[i]) correct++;
  return correct / m.n;
};

const nllOf = ({ m, y }: Labeled, epsilon: number): number => {
  let total = 0;
  for (let i = 0; i < m.n; i++) {
    const p = m.data[i * m.k + (y[i] as number)] as number;
    total -= Math.log(Math.min(1, Math.max(epsilon, p)));
  }
  return total / m.n;
};

const brierOf = ({ m, y }: Labeled): number => {
  let total = 0;
  for (let i = 0; i < m.n; i++) {
    const label = y[i] as number;
    for (let c = 0; c < m.k; c++) {
      const d = (m.data[i * m.k + c] as number) - (c === label ? 1 : 0);
      total += d * d;
    }
  }
  return total / m.n;
};

const binsOf = ({ m, y }: Labeled, bins: number): ReliabilityBin[] => {
  const count = new Float64Array(bins);
  const correct = new Float64Array(bins);
  const confidence = new Float64Array(bins);
  for (let i = 0; i < m.n; i++) {
    const best = rowArgMax(m, i);
    const c = m.data[i * m.k + best] as number;
    // bin b holds (b/M, (b+1)/M]; c <= 0 goes to bin 0 and c > 1 (rounding) to the last.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b] = (count[b] as number) + 1;
    confidence[b] = (confidence[b] as number) + c;
    if (best === y[i]) correct[b] = (correct[b] as number) + 1;
  }
  return Array.from({ length: bins }, (_, b) => {
    const nb = count[b] as number;
    return {
      lower: b / bins,
      upper: (b + 1) / bins,
      count: nb,
      accuracy: nb === 0 ? 0 : (correct[b] as number) / nb,
      confidence: nb === 0 ? 0 : (confidence[b] as number) / nb,
    };
  });
};

const eceOf = (bins: readonly ReliabilityBin[], n: number): number =>
  bins.reduce((acc, b) => acc + (b.count / n) * Math.abs(b.accuracy - b.confidence), 0);

// -------------------------------------------------------------------------------------
// metrics
// -------------------------------------------------------------------------------------

/**
 * Fraction of samples whose most probable class (first on ties) is the label.
 *
 * @example
 * accuracy({ data: [0.9, 0.1, 0.4, 0.6], numClasses: 2 }, [0, 0]) // Right(0.5)
 */
export const accuracy = (
  probs: ProbabilityInput,
  labels: LabelInput,
): E.Either<EnsemblingError, number> => pipe(readSet(probs, labels), E.map(accuracyOf));

/**
 * Mean negative log-likelihood of the labels, `mean_i -ln(clip(p_{i,y_i}, epsilon, 1))`.
 *
 * @example
 * negativeLogLikelihood({ data: [0.5, 0.5], numClasses: 2 }, [1]) // Right(Math.LN2)
 */
export const negativeLogLikelihood = (
  probs: ProbabilityInput,
  labels: LabelInput,
  options: NllOptions = {},
): E.Either<EnsemblingError, number> =>
  pipe(
    checkEpsilon(options.epsilon ?? DEFAULT_NLL_EPSILON),
    E.chain((eps) =>
      pipe(
        readSet(probs, labels),
        E.map((s) => nllOf(s, eps)),
      ),
    ),
  );

/**
 * Brier score, `mean_i sum_k (p_ik - [k = y_i])^2` (in [0, 2]; not divided by K).
 *
 * @example
 * brierScore({ data: [0.75, 0.25], numClasses: 2 }, [0]) // Right(0.125)
 */
export const brierScore = (
  probs: ProbabilityInput,
  labels: LabelInput,
): E.Either<EnsemblingError, number> => pipe(readSet(probs, labels), E.map(brierOf));

/** Reliability diagram: per equal-width bin of max-probability confidence, the count, accuracy and mean confidence. */
export const reliabilityBins = (
  probs: ProbabilityInput,
  labels: LabelInput,
  options: CalibrationOptions = {},
): E.Either<EnsemblingError, readonly ReliabilityBin[]> =>
  pipe(
    checkBins(options.bins ?? DEFAULT_ECE_BINS),
    E.chain((bins) =>
      pipe(
        readSet(probs, labels),
        E.map((s) => binsOf(s, bins)),
      ),
    ),
  );

/**
 * Expected calibration error over `bins` (default 15) equal-width bins of max-probability confidence.
 *
 * @example
 * expectedCalibrationError({ data: [0.9, 0.1], numClasses: 2 }, [0]) // Right(0.1) (approx.)
 */
export const expectedCalibrationError = (
  probs: ProbabilityInput,
  labels: LabelInput,
  options: CalibrationOptions = {},
): E.Either<EnsemblingError, number> =>
  pipe(
    checkBins(options.bins ?? DEFAULT_ECE_BINS),
    E.chain((bins) =>
      pipe(
        readSet(probs, labels),
        E.map((s) => eceOf(binsOf(s, bins), s.m.n)),
      ),
    ),
  );

/** All of accuracy, NLL, Brier and ECE in one pass over the data (one `dataSync`). */
export const predictionMetrics = (
  probs: ProbabilityInput,
  labels: LabelInput,
  options: NllOptions & CalibrationOptions = {},
): E.Either<EnsemblingError, PredictionMetrics> =>
  pipe(
    E.Do,
    E.apS("eps", checkEpsilon(options.epsilon ?? DEFAULT_NLL_EPSILON)),
    E.apS("bins", checkBins(options.bins ?? DEFAULT_ECE_BINS)),
    E.apS("set", readSet(probs, labels)),
    E.map(({ eps, bins, set }) => ({
      count: set.m.n,
      accuracy: accuracyOf(set),
      nll: nllOf(set, eps),
      brier: brierOf(set),
      ece: eceOf(binsOf(set, bins), set.m.n),
    })),
  );
