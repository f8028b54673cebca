/**
 * `@wider/parallel` for every platform: data-parallel training over a {@link Transport} (Web
 * Workers in a browser; `@wider/parallel/node` for `worker_threads`).
 *
 * @packageDocumentation
 */

// errors
export type { ParallelError } from "./errors.js";
export { isParallelError, parallelError } from "./errors.js";
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
