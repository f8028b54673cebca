/**
 * `@wider/distributed`: sweeps, loss-surface grids and SWAP across machines on BullMQ and Redis.
 * Jobs are fingerprinted (SHA-256 of their canonical inputs, used as BullMQ job ids), results are
 * stored once under that fingerprint, everything read back from Redis goes through an io-ts codec,
 * and a job names no file outside its worker's directories.
 *
 * Errors: recoverable faults (a bad `--redis` URL, a path outside the allowed directories, a sweep
 * spec, data read back from Redis, a missing or unfinished sweep, a re-submission conflict, files,
 * a Redis failure) are a `Left<DistributedError>` (the async functions resolve to an `Either`);
 * programmer's mistakes written in code throw a `WiderFailure` (see the README's "Errors" section).
 *
 * @packageDocumentation
 */

// errors
export type { DistributedError } from "./errors.js";
export { distributedError, isDistributedError, isRedisFailure, redisFailure } from "./errors.js";
export type { Json } from "./fingerprint.js";
export { canonicalJson, fingerprint } from "./fingerprint.js";
// loss-surface grids
export type { PlanCache, PublishPlanOptions } from "./geometry.js";
export {
  collectPlan,
  EvaluationRecord,
  evaluatePoint,
  loadPlan,
  planCache,
  publishPlan,
  readEvaluation,
} from "./geometry.js";
// jobs, results and the queue
export {
  bullPrefix,
  checkFingerprint,
  decodeStored,
  defaultQueue,
  Fingerprint,
  JobData,
  jobInputs,
  keys,
  NonNegativeInt,
  PointJob,
  parseAndDecode,
  RunJob,
  StoredResult,
  SwapJob,
} from "./jobs.js";
export { confine } from "./paths.js";
// Redis
export { bullConnection, connect, isRedisError, redactUrl, redisOptions } from "./redis.js";
export type { EnqueueSummary, JobState, JobStatus } from "./store.js";
export {
  enqueue,
  jobOptions,
  jobStates,
  openQueue,
  readDuplicates,
  readResults,
  writeResult,
} from "./store.js";
// SWAP
export type { SubmitSwapOptions } from "./swap.js";
export { averageSwap, SwapRecord, submitSwap, swapMemberDir } from "./swap.js";
// sweeps
export type { SweepRecord } from "./sweep.js";
export {
  decodeSweepSpec,
  expandSweep,
  gridPoints,
  listSweeps,
  readSweep,
  SweepName,
  SweepSpec,
  submitSweep,
} from "./sweep.js";
// workers
export type {
  Handlers,
  JobContext,
  PointSetup,
  WorkerEvent,
  WorkerHandle,
  WorkerOptions,
} from "./worker.js";
export { startWorker, workerDefaults } from "./worker.js";
