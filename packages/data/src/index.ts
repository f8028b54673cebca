/**
 * @wider/data: real image data sets from local files (IDX, CIFAR binary), MNIST embedded,
 * with seeded batching for TensorFlow.js.
 *
 * Errors: file and option faults are returned as `Left<DataError>` (kinds `config`, `io`,
 * `corrupt`); programmer's mistakes (bad arguments in code) throw a `WiderFailure` (kinds
 * `config`, `shape`). See the README's "Errors" section.
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
export type { CifarRecords, CifarVariant } from "./cifar.js";
export { cifarRecordBytes, decodeCifar, readCifar } from "./cifar.js";
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
// readers
export type { IdxArray, IdxData, IdxDtype, IdxHeader } from "./idx.js";
export {
  decodeIdx,
  isGzip,
  looksLikeDamagedGzip,
  parseIdxHeader,
  readIdx,
  readIdxSplit,
  splitFromIdx,
} from "./idx.js";
// data sets
export type { Dataset, LoadOptions } from "./loadDataset.js";
export {
  DatasetName,
  datasetNames,
  defaultDir,
  LoadOptionsCodec,
  loadDataset,
} from "./loadDataset.js";
// randomness
export type { Rng } from "./random.js";
export { deriveSeed, mulberry32, shuffledIndices } from "./random.js";
// splits
export type { ImageShape, Split } from "./split.js";
export { gather, holdOut, pixelsPerImage, subset } from "./split.js";
export type { ChannelStats } from "./stats.js";
export { channelStats } from "./stats.js";
