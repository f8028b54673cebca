/**
 * @wider/data: real image data sets from local files (IDX, CIFAR binary), MNIST embedded,
 * with seeded batching for TensorFlow.js.
 */
export * from "./batchPlan.js";
export * from "./batchTensors.js";
export * from "./cifar.js";
export * from "./classNames.js";
export * from "./DataError.js";
export * from "./idx.js";
export * from "./loadDataset.js";
export * from "./random.js";
export * from "./split.js";
export * from "./stats.js";
