/**
 * `@wider/averaging`: SWA, EMA and BatchNorm re-estimation for TensorFlow.js, matching PyTorch
 * `torch.optim.swa_utils`.
 *
 * Browser-safe entry; `saveState` / `loadState` are in `@wider/averaging/node`.
 *
 * @packageDocumentation
 */

// averagers
export {
  type Averager,
  type AveragerOptions,
  type AveragerState,
  type AvgFn,
  type BufferMode,
  type CpuRule,
  disposeState,
  emaUpdateKernelName,
  emptyState,
  type FastPaths,
  fromRule,
  isBatchNormBuffer,
  isBufferOf,
  type KernelRule,
  makeAverager,
  swaUpdateKernelName,
} from "./Averager.js";
// BatchNorm re-estimation and batches
export {
  type Batch,
  type Batches,
  type BatchInput,
  batchInput,
  batchTensors,
  type DatasetLike,
  isDatasetLike,
  iterateBatches,
} from "./batches.js";
export {
  batchNormLayers,
  momentsKernelName,
  type UpdateBatchNormOptions,
  updateBatchNorm,
} from "./batchNorm.js";
// model.fit callbacks and learning rates
export {
  AveragingCallback,
  type AveragingCallbackOptions,
  averagingCallback,
} from "./callback.js";
export { custom } from "./custom.js";
export { type EmaOptions, type EmaWarmup, ema, emaDecay } from "./ema.js";
// errors
export { type AveragingError, averagingError, isAveragingError } from "./errors.js";
export {
  getLearningRate,
  LearningRateCallback,
  type LearningRateCallbackOptions,
  learningRateScheduler,
  setLearningRate,
} from "./learningRate.js";
// policies
export { atCycleEnds, type Policy, type WhenOptions, when } from "./policy.js";
export { assertOwnCallback, assertOwnLayersModel, duplicateTfjsMessage } from "./sameTfjs.js";
export { swa } from "./swa.js";
export {
  type Collect,
  type Collection,
  SwaCallback,
  type SwaCallbackOptions,
  swaCallback,
} from "./swaCallback.js";
// evaluating other weights (deprecated re-export of @wider/weights)
export { withWeights } from "./withWeights.js";
