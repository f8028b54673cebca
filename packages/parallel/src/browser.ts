/**
 * `@wider/parallel` for every platform: data-parallel training over a {@link Transport} (Web
 * Workers in a browser; `@wider/parallel/node` for `worker_threads`).
 *
 * @packageDocumentation
 */
export {
  C,
  Cmd,
  type FromWorker,
  hashFloats,
  type Layout,
  type ModelSource,
  type OptimizerSpec,
  sliceOf,
  type ToWorker,
  type WorkerBackend,
} from "./protocol.js";
export {
  ParallelError,
  type ParallelOptions,
  type ParallelRunner,
  parallelRunner,
} from "./runner.js";
export type { Transport, WorkerEndpoint, WorkerHandle } from "./transport.js";
export { buildOptimizer, serveWorker } from "./worker.js";
