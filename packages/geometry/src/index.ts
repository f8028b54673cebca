/**
 * `@wider/geometry`: loss-surface geometry for TensorFlow.js — random and filter-normalised
 * directions, rays, segments and planes as plans, their resumable evaluation, solution width,
 * sharpness (top Hessian eigenvalue), and SVG plots rendered with Vega.
 *
 * @packageDocumentation
 */
export * from "./classification.js";
export * from "./directions.js";
export * from "./error.js";
export * from "./evaluation.js";
export * from "./fingerprint.js";
export * from "./plans.js";
export * from "./plots.js";
export * from "./projection.js";
export * from "./render.js";
export * from "./results.js";
export * from "./sharpness.js";
export * from "./structure.js";
export * from "./width.js";
