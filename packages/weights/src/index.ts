/**
 * `@wider/weights`: weight-space arithmetic over TensorFlow.js models.
 *
 * @packageDocumentation
 */
export * from "./arithmetic.js";
export * from "./flatten.js";
export * from "./model.js";
export * from "./persistence.js";
export * from "./types.js";
export * from "./withWeights.js";
