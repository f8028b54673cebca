/**
 * `@wider/averaging`: SWA, EMA and BatchNorm re-estimation for TensorFlow.js, matching PyTorch
 * `torch.optim.swa_utils`.
 *
 * Browser-safe entry; `saveState` / `loadState` are in `@wider/averaging/node`.
 *
 * @packageDocumentation
 */
export * from "./Averager.js";
export * from "./batches.js";
export * from "./batchNorm.js";
export * from "./callback.js";
export * from "./custom.js";
export * from "./ema.js";
export * from "./learningRate.js";
export * from "./policy.js";
export * from "./sameTfjs.js";
export * from "./swa.js";
export * from "./swaCallback.js";
export * from "./withWeights.js";
