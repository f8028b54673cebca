/**
 * `@wider/distributed`: sweeps, loss-surface grids and SWAP across machines on BullMQ and Redis.
 * Jobs are fingerprinted (SHA-256 of their canonical inputs, used as BullMQ job ids), results are
 * stored once under that fingerprint, everything read back from Redis goes through an io-ts codec,
 * and a job names no file outside its worker's directories.
 *
 * @packageDocumentation
 */
export * from "./error.js";
export * from "./fingerprint.js";
export * from "./geometry.js";
export * from "./jobs.js";
export * from "./paths.js";
export * from "./redis.js";
export * from "./store.js";
export * from "./swap.js";
export * from "./sweep.js";
export * from "./worker.js";
