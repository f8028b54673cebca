/**
 * `@wider/swag`: SWA-Gaussian (Maddox et al. 2019) and MultiSWAG (Wilson and Izmailov 2020) for
 * TensorFlow.js: moment and deviation collection, posterior samples, Bayesian model averaging and
 * calibration reports.
 *
 * (Browser-safe entry; saving and loading SWAG states is in `@wider/swag/node`.)
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
