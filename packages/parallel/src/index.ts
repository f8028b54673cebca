/**
 * `@wider/parallel`: data-parallel training for TensorFlow.js. On Node (the `node` export
 * condition) this root entry is `./browser.js` plus `nodeTransport` of `@wider/parallel/node`
 * (the names of `./browser.js` listed again: no `export *`).
 *
 * Errors: every error is a thrown `WiderFailure` with `_tag: "ParallelError"` (see the README's
 * "Errors" section).
 *
 * @packageDocumentation
 */

// errors
export type { ParallelError } from "./errors.js";
export { isParallelError, parallelError } from "./errors.js";
// Node
export type { NodeTransportOptions } from "./node.js";
export { nodeTransport } from "./node.js";

// the message protocol
export type {
  FromWorker,
  Layout,
  ModelSource,
  OptimizerSpec,
  ToWorker,
  WorkerBackend,
} from "./protocol.js";
export { C, Cmd, hashFloats, shardOf, sliceOf } from "./protocol.js";
// the runner
export type { ParallelOptions, ParallelRunner } from "./runner.js";
export { parallelRunner } from "./runner.js";
// transports and the worker side
export type { Transport, WorkerEndpoint, WorkerHandle } from "./transport.js";
export { buildOptimizer, serveWorker, tensorFrom, valuesOf } from "./worker.js";
