/**
 * The result store and the queue: results in a Redis hash keyed by job fingerprint, written once
 * (`HSETNX`: a second write of the same job, by a retried or duplicated attempt, is counted and
 * dropped), and jobs added to BullMQ with their fingerprint as job id (a job already queued,
 * running or finished is not added again).
 *
 * @module
 */
import { orThrow } from "@wider/errors";
import { type ConnectionOptions, type JobsOptions, Queue } from "bullmq";
import * as E from "fp-ts/lib/Either.js";
import type { Redis } from "ioredis";
import { attempt, type DistributedError } from "./errors.js";
import { bullPrefix, type JobData, keys, parseOrFail, StoredResult } from "./jobs.js";
import { bullConnection } from "./redis.js";

/**
 * Stores `result` under its fingerprint unless one is there already; returns whether it was
 * written. A refused second write increments `wider:<queue>:duplicates` (for audits and tests).
 * A Redis failure is a `Left` (`io`).
 */
export const writeResult = (
  redis: Redis,
  queue: string,
  result: StoredResult,
): Promise<E.Either<DistributedError, boolean>> =>
  attempt(async () => {
    const k = keys(queue);
    const written = await redis.hsetnx(k.results, result.fingerprint, JSON.stringify(result));
    if (written === 1) return true;
    await redis.hincrby(k.duplicates, result.fingerprint, 1);
    return false;
  });

/** {@link readResults}, throwing (internal: inside `attempt`, the caller's `Left`). */
export const readResultsOrFail = async (
  redis: Redis,
  queue: string,
  fingerprints: readonly string[],
): Promise<Map<string, StoredResult>> => {
  const out = new Map<string, StoredResult>();
  if (fingerprints.length === 0) return out;
  const texts = await redis.hmget(keys(queue).results, ...fingerprints);
  fingerprints.forEach((fp, i) => {
    const text = texts[i];
    if (text !== null && text !== undefined)
      out.set(fp, parseOrFail(StoredResult, text, `the result of job ${fp.slice(0, 12)}…`));
  });
  return out;
};

/**
 * The stored results of `fingerprints` (decoded; missing ones are absent from the map). A result
 * that does not decode is a `corrupt` `Left`, a Redis failure an `io` one.
 */
export const readResults = (
  redis: Redis,
  queue: string,
  fingerprints: readonly string[],
): Promise<E.Either<DistributedError, Map<string, StoredResult>>> =>
  attempt(() => readResultsOrFail(redis, queue, fingerprints));

/** How many refused second writes each job had (jobs with none are absent; Redis failure: `Left`). */
export const readDuplicates = (
  redis: Redis,
  queue: string,
): Promise<E.Either<DistributedError, Map<string, number>>> =>
  attempt(async () => {
    const raw = await redis.hgetall(keys(queue).duplicates);
    return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
  });

/** Job options of every Wider job: fingerprint id, 3 attempts, history kept for `status`. */
export const jobOptions = (fp: string): JobsOptions => ({
  jobId: fp,
  attempts: 3,
  backoff: { type: "fixed", delay: 1000 },
  removeOnComplete: false,
  removeOnFail: false,
});

/** What {@link enqueue} did with each job. */
export interface EnqueueSummary {
  /** Added to the queue now. */
  readonly added: number;
  /** Not added: a result is stored already. */
  readonly done: number;
  /** Not added: queued, running or finished already (BullMQ knows the id). */
  readonly present: number;
  /** Failed earlier (attempts used up) and retried now. */
  readonly retried: number;
}

/** A BullMQ queue object for `url` (close it with `close()`; a bad URL is a `Left`, `config`). */
export const openQueue = (url: string, queue: string): E.Either<DistributedError, Queue> =>
  E.map((connection: ConnectionOptions) => new Queue(queue, { connection, prefix: bullPrefix }))(
    bullConnection(url),
  );

/**
 * Adds `jobs` to the queue under their fingerprints, skipping those with a stored result or
 * already known to BullMQ, and retrying those that failed for good; safe to call again with the
 * same jobs (a re-submitted sweep adds nothing twice). A bad URL, a stored result that does not
 * decode or a Redis failure is a `Left`.
 */
export const enqueue = (
  url: string,
  queue: string,
  redis: Redis,
  jobs: readonly JobData[],
): Promise<E.Either<DistributedError, EnqueueSummary>> =>
  attempt(() => enqueueOrFail(url, queue, redis, jobs));

/** {@link enqueue}, throwing (internal: inside `attempt`, the caller's `Left`). */
export const enqueueOrFail = async (
  url: string,
  queue: string,
  redis: Redis,
  jobs: readonly JobData[],
): Promise<EnqueueSummary> => {
  const q = orThrow(openQueue(url, queue));
  try {
    const results = await readResultsOrFail(
      redis,
      queue,
      jobs.map((j) => j.fingerprint),
    );
    let added = 0;
    let done = 0;
    let present = 0;
    let retried = 0;
    const fresh: JobData[] = [];
    for (const job of jobs) {
      if (results.has(job.fingerprint)) {
        done++;
        continue;
      }
      const existing = await q.getJob(job.fingerprint);
      if (existing === undefined) {
        fresh.push(job);
        continue;
      }
      const state = await existing.getState();
      if (state === "failed") {
        await existing.retry("failed");
        retried++;
      } else if (state === "completed") {
        // Completed without a stored result (the result hash was cleared): run it again.
        await existing.remove();
        fresh.push(job);
      } else present++;
    }
    if (fresh.length > 0) {
      const addedJobs = await q.addBulk(
        fresh.map((j) => ({ name: j.kind, data: j, opts: jobOptions(j.fingerprint) })),
      );
      added = addedJobs.length;
    }
    return { added, done, present, retried };
  } finally {
    await q.close();
  }
};

/** A job's state as `status` shows it. */
export type JobState =
  | "done"
  | "completed"
  | "active"
  | "waiting"
  | "delayed"
  | "failed"
  | "missing"
  | "other";

/** One job's state, attempts and last error (see {@link jobStates}). */
export interface JobStatus {
  readonly state: JobState;
  readonly attempts: number;
  readonly error: string | null;
}

/**
 * Per-job state: `done` when its result is stored, else BullMQ's state (a bad URL, a stored
 * result that does not decode or a Redis failure is a `Left`).
 */
export const jobStates = (
  url: string,
  queue: string,
  redis: Redis,
  fingerprints: readonly string[],
): Promise<E.Either<DistributedError, Map<string, JobStatus>>> =>
  attempt(async () => {
    const q = orThrow(openQueue(url, queue));
    try {
      const results = await readResultsOrFail(redis, queue, fingerprints);
      const out = new Map<string, JobStatus>();
      for (const fp of fingerprints) {
        const job = await q.getJob(fp);
        const attempts = job?.attemptsStarted ?? 0;
        const error = job?.failedReason ?? null;
        if (results.has(fp)) {
          out.set(fp, { state: "done", attempts, error: null });
          continue;
        }
        if (job === undefined) {
          out.set(fp, { state: "missing", attempts: 0, error: null });
          continue;
        }
        const s = await job.getState();
        const state: JobState =
          s === "completed" || s === "active" || s === "delayed" || s === "failed"
            ? s
            : s === "waiting" || s === "prioritized" || s === "waiting-children"
              ? "waiting"
              : "other";
        out.set(fp, { state, attempts, error: error === "" ? null : error });
      }
      return out;
    } finally {
      await q.close();
    }
  });
