/**
 * `@wider/geometry`: loss-surface geometry for TensorFlow.js — random and filter-normalised
 * directions, rays, segments and planes as plans, their resumable evaluation, solution width,
 * sharpness (top Hessian eigenvalue), and SVG plots rendered with Vega.
 *
 * @packageDocumentation
 */

export {
  type ClassifierOptions,
  evaluateClassifier,
  type LabelledSet,
  lossAndError,
} from "./classification.js";
// directions
export {
  filterNormalized,
  orthogonalize,
  randomDirection,
  randomFilterNormalizedDirection,
} from "./directions.js";
// errors
export { type GeometryError, geometryError, isGeometryError } from "./errors.js";
// evaluation and result files
export {
  type BatchNormBatches,
  type EvaluationOptions,
  evaluatePlan,
  evaluatePlanWith,
  type ModelEvaluationOptions,
  type Progress,
} from "./evaluation.js";
export { planFingerprint } from "./fingerprint.js";
// plans
export {
  describePlan,
  disposePlan,
  type LinePoint,
  linspace,
  type Plan,
  type PlanDescription,
  type PlaneDescription,
  type PlaneOptions,
  type PlanePlan,
  type PlanePoint,
  type PlanPoint,
  planeThrough,
  planTensors,
  planWeights,
  pointWeights,
  type RayDescription,
  type RayPlan,
  rayFrom,
  type SegmentDescription,
  type SegmentPlan,
  segment,
} from "./plans.js";
// plots
export {
  contourLevels,
  type MetricAxis,
  type PlaneContourOptions,
  type PlaneTrajectoryOptions,
  type PlotLayout,
  planeContourSpec,
  planeContourSvg,
  planeTrajectorySpec,
  planeTrajectorySvg,
  type RayGroup,
  rayPlotSpec,
  rayPlotSvg,
  type SegmentPlotOptions,
  segmentPlotSpec,
  segmentPlotSvg,
  type TrajectoryPoint,
} from "./plots.js";
export { type Projection, projectAllOnto, projectOnto } from "./projection.js";
export { renderVegaLiteToSvg, renderVegaToSvg } from "./render.js";
export {
  type Metrics,
  type PlanResults,
  PlanResultsC,
  type PointResult,
  readResultsFile,
  type StoredMetrics,
  storeMetrics,
  writeResultsFile,
} from "./results.js";
// sharpness
export {
  crossEntropy,
  type EigenResult,
  exactHvp,
  finiteDifferenceHvp,
  type Hvp,
  type HvpMethod,
  lossGradient,
  lossSharpness,
  type ModelSharpnessOptions,
  modelSharpness,
  type PowerIterationOptions,
  type SharpnessOptions,
  topHessianEigenvalue,
} from "./sharpness.js";
export { checkSameStructure } from "./structure.js";
// width
export {
  type ProfilePoint,
  profileOf,
  quantile,
  type RaysWidthOptions,
  type RayWidth,
  rayWidth,
  type SideWidth,
  summarizeWidths,
  type WidthOptions,
  type WidthSummary,
  widthsOfRays,
} from "./width.js";
