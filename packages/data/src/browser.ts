/**
 * `@wider/data` for browsers (and every platform): IDX decoding of bytes held in memory, splits,
 * channel statistics, seeded batch plans and batch tensors, with no file system. Reading files
 * (`loadDataset`, `readIdx`, CIFAR) is Node only: the root entry under the `node` condition.
 *
 * @packageDocumentation
 */
// batching
export type { BatchPlan, PlanBatchesOptions } from "./batchPlan.js";
export { planBatches } from "./batchPlan.js";
export type { Augmentation, Batch, BatchOptions, Normalization } from "./batchTensors.js";
export {
  batches,
  defaultAugmentation,
  forEachBatch,
  noAugmentation,
  toBatchTensors,
} from "./batchTensors.js";
// class names
export {
  cifar10ClassNames,
  cifar100ClassNames,
  cifar100CoarseClassNames,
  fashionMnistClassNames,
  mnistClassNames,
} from "./classNames.js";
// errors
export type { DataError } from "./errors.js";
export { corrupt, dataError, describeCause } from "./errors.js";
// IDX decoding of bytes in memory
export type { IdxArray, IdxData, IdxDtype, IdxHeader } from "./idxDecode.js";
export {
  decodeIdx,
  isGzip,
  looksLikeDamagedGzip,
  parseIdxHeader,
  splitFromIdx,
} from "./idxDecode.js";
// randomness
export type { Rng } from "./random.js";
export { deriveSeed, mulberry32, shuffledIndices } from "./random.js";
// splits
export type { ImageShape, Split } from "./split.js";
export { gather, holdOut, pixelsPerImage, subset } from "./split.js";
export type { ChannelStats } from "./stats.js";
export { channelStats } from "./stats.js";
