/**
 * @wider/ensembling: Fast Geometric Ensembling for TensorFlow.js — snapshot
 * collection, streaming prediction ensembles, calibration metrics and the
 * SWA-vs-ensemble diagnostics of the SWA paper's section 3.5.
 *
 * @packageDocumentation
 */

export * from "./ensemblePredict.js";
export * from "./ensembleVsSwa.js";
export * from "./errors.js";
export * from "./metrics.js";
export * from "./modelEnsemble.js";
export * from "./predictionSet.js";
export * from "./probabilitySum.js";
export * from "./snapshotCallback.js";
export * from "./snapshots.js";
