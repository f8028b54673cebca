/**
 * `@wider/data` for browsers (and every platform): IDX decoding of bytes held in memory, splits,
 * channel statistics, seeded batch plans and batch tensors, with no file system. Reading files
 * (`loadDataset`, `readIdx`, CIFAR) is Node only: the root entry under the `node` condition.
 *
 * @packageDocumentation
 */
export * from "./batchPlan.js";
export * from "./batchTensors.js";
export * from "./classNames.js";
export * from "./DataError.js";
export {
  decodeIdx,
  type IdxArray,
  type IdxData,
  type IdxDtype,
  type IdxHeader,
  isGzip,
  looksLikeDamagedGzip,
  parseIdxHeader,
  splitFromIdx,
} from "./idxDecode.js";
export * from "./random.js";
export * from "./split.js";
export * from "./stats.js";
