/**
 * `@wider/swag`: SWA-Gaussian and MultiSWAG for TensorFlow.js. On Node (the `node` export
 * condition) this root entry is `./browser.js` plus `@wider/swag/node`; other platforms get
 * `./browser.js` alone.
 *
 * @packageDocumentation
 */

export {
  allocateSamples,
  type BmaOptions,
  bayesianModelAverage,
  DEFAULT_SAMPLES,
  sampleSeed,
} from "./bma.js";
export {
  type CalibrationReport,
  calibrationReport,
  type DiagramOptions,
  reliabilityDiagramSvg,
} from "./calibration.js";
export { SwagCallback, type SwagCallbackOptions, swagCallback } from "./callback.js";
// errors
export { isSwagError, type SwagError, swagError } from "./errors.js";
// files (Node only; also `@wider/swag/node`)
export { deviationGroup, loadSwagState, saveSwagState } from "./persistence.js";
export {
  DEFAULT_MAX_RANK,
  disposeSwagState,
  emptySwagState,
  type Swag,
  type SwagOptions,
  type SwagState,
  swag,
} from "./SwagState.js";
export {
  DEFAULT_SCALE,
  type Draws,
  type SampleOptions,
  type SwagRank,
  swagDraws,
  swagSample,
  swagSampleSeeded,
  swagVariance,
  VARIANCE_FLOOR,
} from "./sample.js";
