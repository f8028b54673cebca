/**
 * @wider/ensembling: Fast Geometric Ensembling for TensorFlow.js — snapshot
 * collection, streaming prediction ensembles, calibration metrics and the
 * SWA-vs-ensemble diagnostics of the SWA paper's section 3.5.
 *
 * @packageDocumentation
 */

export { type EnsemblePredictOptions, ensemblePredict, type PredictFn } from "./ensemblePredict.js";
export {
  type EnsembleVsSwaMetrics,
  type EnsembleVsSwaOptions,
  type EnsembleVsSwaReport,
  ensembleVsSwa,
} from "./ensembleVsSwa.js";
export { type EnsemblingError, ensemblingError, isEnsemblingError } from "./errors.js";
export {
  accuracy,
  brierScore,
  type CalibrationOptions,
  DEFAULT_ECE_BINS,
  DEFAULT_NLL_EPSILON,
  expectedCalibrationError,
  type NllOptions,
  negativeLogLikelihood,
  type PredictionMetrics,
  predictionMetrics,
  type ReliabilityBin,
  reliabilityBins,
} from "./metrics.js";
export {
  type BatchNormOptions,
  type CompareOptions,
  compareEnsembleToSwa,
  DEFAULT_PREDICT_BATCH,
  type EvalSets,
  ensembleProbabilities,
  type Members,
  type ModelEnsembleOptions,
  memberProbabilities,
  predictProbabilities,
} from "./modelEnsemble.js";
export type { LabelInput, ProbabilityInput } from "./predictionSet.js";
export {
  accumulateProbabilities,
  disposeProbabilitySum,
  initProbabilitySum,
  meanProbabilities,
  type OutputOptions,
  type ProbabilitySum,
  toProbabilities,
} from "./probabilitySum.js";
export {
  SnapshotCallback,
  type SnapshotCallbackOptions,
  snapshotCallback,
} from "./snapshotCallback.js";
export {
  type CollectOptions,
  collectAt,
  disposeSnapshots,
  loadSnapshot,
  meanOfSnapshots,
  type Snapshot,
  type SnapshotCollector,
  type SnapshotPolicy,
  type SnapshotState,
  type SnapshotStore,
  snapshotDirName,
  snapshotsOnDisk,
  type WhenFull,
  withSnapshot,
} from "./snapshots.js";
