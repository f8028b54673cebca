/**
 * The experiment's settings: the SWA paper's comparison (SGD at budget B, SWA at 1 B and 1.25 B,
 * FGE at 1 B) on Fashion-MNIST with the small CNN, at a scale this machine runs in minutes.
 * Budgets are counted in SGD steps and include the pretraining the branches share.
 *
 * @module
 */

/** Every setting of one experiment run (recorded in the output JSON). */
export interface ExperimentConfig {
  readonly dataset: "fashion-mnist";
  /** Folder of the IDX files (null: @wider/data's default, /usr/share/datasets/fashion-mnist). */
  readonly dataDir: string | null;
  /** Train on the first n images of a seeded shuffle (0: all 60,000). */
  readonly trainSubset: number;
  /** Evaluate on the first n test images (0: all 10,000). */
  readonly testSubset: number;
  readonly seeds: readonly number[];
  /** The budget B in epochs of the training set. */
  readonly epochs: number;
  readonly batchSize: number;
  /** SWA and FGE start after this fraction of B (the rest of B is rounded to whole cycles). */
  readonly swaStartFraction: number;
  /** The longer SWA run, in budgets (the paper: 1.25 and 1.5). */
  readonly swaExtendedBudget: number;
  /** SGD: initial rate, momentum, coupled L2 weight decay (PyTorch SGD semantics). */
  readonly lrInit: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** SWA: constant rate after a cosine anneal (SWALR) of `swaAnnealSteps`, averaging every `swaEvery` steps. */
  readonly swaLr: number;
  readonly swaAnnealSteps: number;
  readonly swaEvery: number;
  /** FGE: triangular cycle of `fgeCycle` steps (even) from `fgeLrMax` to `fgeLrMin`, a snapshot at each midpoint. */
  readonly fgeCycle: number;
  readonly fgeLrMax: number;
  readonly fgeLrMin: number;
  /** Width: rays from the SGD and SWA (1 B) solutions, train loss on `widthSamples` training images. */
  readonly rays: number;
  readonly rayDistances: readonly number[];
  readonly widthDelta: number;
  readonly widthSamples: number;
  /** Points of the segment between SWA and SGD (t in [-0.5, 1.5]; 0: none). */
  readonly segmentPoints: number;
  /** Worker processes (seeds run in parallel; wasm runs one thread per process). */
  readonly jobs: number;
  /** Log training progress every n steps. */
  readonly logEvery: number;
}

/**
 * The full run: B = 3 epochs of the 60,000 Fashion-MNIST training images (1,404 steps of 128),
 * SWA/FGE from ~0.75 B, 3 seeds in 3 processes.
 */
export const fullExperiment: ExperimentConfig = {
  dataset: "fashion-mnist",
  dataDir: null,
  trainSubset: 0,
  testSubset: 0,
  seeds: [0, 1, 2],
  epochs: 3,
  batchSize: 128,
  swaStartFraction: 0.75,
  swaExtendedBudget: 1.25,
  lrInit: 0.05,
  momentum: 0.9,
  weightDecay: 5e-4,
  swaLr: 0.01,
  swaAnnealSteps: 20,
  swaEvery: 30,
  fgeCycle: 60,
  fgeLrMax: 0.02,
  fgeLrMin: 0.0005,
  rays: 4,
  rayDistances: [0, 2, 4, 6, 8, 10, 13, 16, 20, 25, 30, 40],
  widthDelta: 0.1,
  widthSamples: 1000,
  segmentPoints: 11,
  jobs: 3,
  logEvery: 100,
};

/** `--smoke`: a few steps of everything on 512 images, for CI. */
export const smokeExperiment: ExperimentConfig = {
  ...fullExperiment,
  trainSubset: 512,
  testSubset: 256,
  seeds: [0, 1],
  epochs: 2,
  batchSize: 32,
  swaAnnealSteps: 2,
  swaEvery: 2,
  fgeCycle: 4,
  rays: 2,
  rayDistances: [0, 5, 20],
  widthSamples: 128,
  segmentPoints: 3,
  jobs: 1,
  logEvery: 8,
};

/** The step counts a config implies. */
export interface Budget {
  readonly stepsPerEpoch: number;
  /** B in steps. */
  readonly budget: number;
  /** The step the branches start from (end of the shared pretraining). */
  readonly start: number;
  /** End of the extended SWA run (its budget times B, in steps). */
  readonly extendedEnd: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Steps of a config: B = epochs x floor(train / batch); the branches start at `start`, chosen so
 * that `B - start` is the multiple of lcm(swaEvery, fgeCycle) closest to (1 - swaStartFraction) B
 * (at least one), so SWA's last average and FGE's last cycle end exactly at B.
 *
 * @example
 * budgetOf(fullExperiment, 60000) // { stepsPerEpoch: 468, budget: 1404, start: 1044, extendedEnd: 1755 }
 */
export const budgetOf = (config: ExperimentConfig, trainCount: number): Budget => {
  const stepsPerEpoch = Math.floor(trainCount / config.batchSize);
  const budget = config.epochs * stepsPerEpoch;
  const unit = (config.swaEvery * config.fgeCycle) / gcd(config.swaEvery, config.fgeCycle);
  const cycles = Math.max(1, Math.round(((1 - config.swaStartFraction) * budget) / unit));
  const start = budget - cycles * unit;
  if (stepsPerEpoch < 1 || start < 1) {
    throw new Error(
      `the budget (${budget} steps of ${config.batchSize}) is too short for SWA/FGE cycles of ${unit} steps; train longer or use shorter cycles`,
    );
  }
  return {
    stepsPerEpoch,
    budget,
    start,
    extendedEnd: Math.round(config.swaExtendedBudget * budget),
  };
};
