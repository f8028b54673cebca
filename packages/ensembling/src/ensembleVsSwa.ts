/**
 * Section 3.5 of the SWA paper made measurable. For members w_i with
 * predictions p_i = f(w_i) and the weight mean w_swa with p_swa = f(w_swa),
 * a Taylor expansion around w_swa (Delta_i = w_i - w_swa) gives
 *
 *   mean_i f(w_i) - f(w_swa) = O(|Delta|^2)            (ensemble vs SWA: second order)
 *   f(w_i) - f(w_j) = <grad f, Delta_i - Delta_j> + O(|Delta|^2)   (member spread: first order)
 *
 * so near a basin the distance between the ensemble's averaged probabilities
 * and p_swa should be much smaller than the mean pairwise distance between
 * members. {@link ensembleVsSwa} reports both, and argmax agreements.
 *
 * Distances are per-sample and then averaged over samples (and over pairs):
 * - total variation TV(p, q) = 1/2 sum_k |p_k - q_k| in [0, 1] (the headline number),
 * - Euclidean L2(p, q) = sqrt(sum_k (p_k - q_k)^2),
 * - KL(p_ens || p_swa) = sum_k p_k ln(p_k / q_k) with q clipped below at 1e-12 (terms with p_k = 0 are 0).
 *
 * @module ensembleVsSwa
 */
import * as E from "fp-ts/lib/Either.js";
import { type EnsemblingError, ensemblingError } from "./errors.js";
import { type PredictionMetrics, predictionMetrics } from "./metrics.js";
import {
  type LabelInput,
  type ProbabilityInput,
  type ProbabilityMatrix,
  readProbabilities,
  rowArgMax,
} from "./predictionSet.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Metrics of the ensemble, of SWA, and the mean over members of each member's metrics. */
export interface EnsembleVsSwaMetrics {
  readonly ensemble: PredictionMetrics;
  readonly swa: PredictionMetrics;
  readonly memberMean: PredictionMetrics;
}

/**
 * The section 3.5 report, all plain JSON-able numbers. Near a basin `ensembleSwaTv` should be much
 * smaller than `memberPairwiseTv` (`gapToSpreadRatio` << 1).
 */
export interface EnsembleVsSwaReport {
  readonly members: number;
  readonly samples: number;
  readonly classes: number;
  /** mean over samples of TV(p_ens, p_swa), p_ens = mean_i p_i. */
  readonly ensembleSwaTv: number;
  /** mean over samples of ||p_ens - p_swa||_2. */
  readonly ensembleSwaL2: number;
  /** mean over samples of KL(p_ens || p_swa). */
  readonly ensembleSwaKl: number;
  /** mean over pairs i < j and samples of TV(p_i, p_j). */
  readonly memberPairwiseTv: number;
  /** mean over pairs i < j and samples of ||p_i - p_j||_2. */
  readonly memberPairwiseL2: number;
  /** mean over members and samples of TV(p_i, p_ens). */
  readonly memberEnsembleTv: number;
  /** mean over members and samples of TV(p_i, p_swa). */
  readonly memberSwaTv: number;
  /** ensembleSwaTv / memberPairwiseTv; null when the members all agree exactly (spread 0). */
  readonly gapToSpreadRatio: number | null;
  /** mean over pairs i < j of the fraction of samples where argmax p_i = argmax p_j. */
  readonly memberPairwiseAgreement: number;
  /** fraction of samples where argmax p_ens = argmax p_swa. */
  readonly ensembleSwaAgreement: number;
  /** mean over members of the fraction of samples where argmax p_i = argmax p_swa. */
  readonly memberSwaAgreement: number;
  /** present when labels were given. */
  readonly metrics?: EnsembleVsSwaMetrics;
}

/** Options of {@link ensembleVsSwa}: labels to add accuracy/NLL/Brier/ECE of ensemble, SWA and members. */
export interface EnsembleVsSwaOptions {
  readonly labels?: LabelInput;
}

const KL_EPSILON = 1e-12;

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

const at = (m: ProbabilityMatrix, j: number): number => m.data[j] as number;

const tvRow = (a: ProbabilityMatrix, b: ProbabilityMatrix, i: number): number => {
  let s = 0;
  for (let c = 0, j = i * a.k; c < a.k; c++, j++) s += Math.abs(at(a, j) - at(b, j));
  return s / 2;
};

const l2Row = (a: ProbabilityMatrix, b: ProbabilityMatrix, i: number): number => {
  let s = 0;
  for (let c = 0, j = i * a.k; c < a.k; c++, j++) {
    const d = at(a, j) - at(b, j);
    s += d * d;
  }
  return Math.sqrt(s);
};

const klRow = (p: ProbabilityMatrix, q: ProbabilityMatrix, i: number): number => {
  let s = 0;
  for (let c = 0, j = i * p.k; c < p.k; c++, j++) {
    const pj = at(p, j);
    if (pj > 0) s += pj * Math.log(pj / Math.max(KL_EPSILON, at(q, j)));
  }
  return s;
};

const meanOverRows = (n: number, f: (i: number) => number): number => {
  let s = 0;
  for (let i = 0; i < n; i++) s += f(i);
  return s / n;
};

const argMaxes = (m: ProbabilityMatrix): Int32Array => {
  const out = new Int32Array(m.n);
  for (let i = 0; i < m.n; i++) out[i] = rowArgMax(m, i);
  return out;
};

const agreement = (a: Int32Array, b: Int32Array): number => {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
};

const averageMetrics = (all: readonly PredictionMetrics[]): PredictionMetrics => {
  const mean = (f: (m: PredictionMetrics) => number) =>
    all.reduce((s, m) => s + f(m), 0) / all.length;
  return {
    count: all[0]?.count ?? 0,
    accuracy: mean((m) => m.accuracy),
    nll: mean((m) => m.nll),
    brier: mean((m) => m.brier),
    ece: mean((m) => m.ece),
  };
};

// -------------------------------------------------------------------------------------
// diagnostics
// -------------------------------------------------------------------------------------

/**
 * Measures how well SWA's single prediction `swa` = f(w_swa) matches the ensemble of `members`
 * (each p_i = f(w_i), same `[n, K]` shape; at least 2): ensemble-vs-SWA distance against member
 * spread, and argmax agreements. Tensors are read with `dataSync` and not disposed.
 *
 * @example
 * const report = ensembleVsSwa([p1, p2, p3], pSwa, { labels: yTest });
 * // Right({ ensembleSwaTv: 0.004, memberPairwiseTv: 0.05, gapToSpreadRatio: 0.08, ... })
 */
export const ensembleVsSwa = (
  members: readonly ProbabilityInput[],
  swa: ProbabilityInput,
  options: EnsembleVsSwaOptions = {},
): E.Either<EnsemblingError, EnsembleVsSwaReport> => {
  if (members.length < 2) {
    return E.left(
      ensemblingError(
        "config",
        `members has ${members.length} entries; pairwise spread needs at least 2 members' predictions`,
      ),
    );
  }
  const swaM = readProbabilities(swa, "swa probabilities");
  if (E.isLeft(swaM)) return swaM;
  const { n, k } = swaM.right;
  if (n === 0) {
    return E.left(
      ensemblingError("shape", "swa probabilities have 0 samples; pass at least one prediction"),
    );
  }
  const ms: ProbabilityMatrix[] = [];
  for (const [i, p] of members.entries()) {
    const m = readProbabilities(p, `members[${i}]`);
    if (E.isLeft(m)) return m;
    if (m.right.n !== n || m.right.k !== k) {
      return E.left(
        ensemblingError(
          "shape",
          `members[${i}] is [${m.right.n}, ${m.right.k}] but swa probabilities are [${n}, ${k}]; predict all on the same evaluation set`,
        ),
      );
    }
    ms.push(m.right);
  }
  const count = ms.length;
  const ensData = new Float64Array(n * k);
  for (const m of ms)
    for (let j = 0; j < n * k; j++) ensData[j] = (ensData[j] as number) + at(m, j);
  for (let j = 0; j < n * k; j++) ensData[j] = (ensData[j] as number) / count;
  const ens: ProbabilityMatrix = { data: ensData, n, k };
  const sw = swaM.right;

  let pairTv = 0;
  let pairL2 = 0;
  let pairAgree = 0;
  let pairs = 0;
  const arg = ms.map(argMaxes);
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const ma = ms[a] as ProbabilityMatrix;
      const mb = ms[b] as ProbabilityMatrix;
      pairTv += meanOverRows(n, (i) => tvRow(ma, mb, i));
      pairL2 += meanOverRows(n, (i) => l2Row(ma, mb, i));
      pairAgree += agreement(arg[a] as Int32Array, arg[b] as Int32Array);
      pairs++;
    }
  }
  const swaArg = argMaxes(sw);
  const memberEnsembleTv = ms.reduce((s, m) => s + meanOverRows(n, (i) => tvRow(m, ens, i)), 0);
  const memberSwaTv = ms.reduce((s, m) => s + meanOverRows(n, (i) => tvRow(m, sw, i)), 0);
  const memberSwaAgree = arg.reduce((s, a) => s + agreement(a, swaArg), 0);
  const ensembleSwaTv = meanOverRows(n, (i) => tvRow(ens, sw, i));
  const memberPairwiseTv = pairTv / pairs;

  const base: EnsembleVsSwaReport = {
    members: count,
    samples: n,
    classes: k,
    ensembleSwaTv,
    ensembleSwaL2: meanOverRows(n, (i) => l2Row(ens, sw, i)),
    ensembleSwaKl: meanOverRows(n, (i) => klRow(ens, sw, i)),
    memberPairwiseTv,
    memberPairwiseL2: pairL2 / pairs,
    memberEnsembleTv: memberEnsembleTv / count,
    memberSwaTv: memberSwaTv / count,
    gapToSpreadRatio: memberPairwiseTv > 0 ? ensembleSwaTv / memberPairwiseTv : null,
    memberPairwiseAgreement: pairAgree / pairs,
    ensembleSwaAgreement: agreement(argMaxes(ens), swaArg),
    memberSwaAgreement: memberSwaAgree / count,
  };
  if (options.labels === undefined) return E.right(base);
  const labels = options.labels;
  const ensembleMetrics = predictionMetrics({ data: ensData, numClasses: k }, labels);
  if (E.isLeft(ensembleMetrics)) return ensembleMetrics;
  const swaMetrics = predictionMetrics({ data: sw.data, numClasses: k }, labels);
  if (E.isLeft(swaMetrics)) return swaMetrics;
  const memberMetrics: PredictionMetrics[] = [];
  for (const m of ms) {
    const r = predictionMetrics({ data: m.data, numClasses: k }, labels);
    if (E.isLeft(r)) return r;
    memberMetrics.push(r.right);
  }
  return E.right({
    ...base,
    metrics: {
      ensemble: ensembleMetrics.right,
      swa: swaMetrics.right,
      memberMean: averageMetrics(memberMetrics),
    },
  });
};
