/**
 * The result store and the queue: results in a Redis hash keyed by job fingerprint, written once
 * (`HSETNX`: a second write of the same job, by a retried or duplicated attempt, is counted and
 * dropped), and jobs added to BullMQ with their fingerprint as job id (a job already queued,
 * running or finished is not added again).
 *
 * @module
 */
import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { bullPrefix, type JobData, keys, parseAndDecode, StoredResult } from "./jobs.js";
import { bullConnection } from "./redis.js";

/**
 * Stores `result` under its fingerprint unless one is there already; returns whether it was
 * written. A refused second write increments `wider:<queue>:duplicates` (for audits and tests).
 */
export const writeResult = async (
  redis: Redis,
  queue: string,
  result: StoredResult,
): Promise<boolean> => {
  const k = keys(queue);
  const written = await redis.hsetnx(k.results, result.fingerprint, JSON.stringify(result));
  if (written === 1) return true;
  await redis.hincrby(k.duplicates, result.fingerprint, 1);
  return false;
};

/** The stored results of `fingerprints` (decoded; missing ones are absent from the map). */
export const readResults = async (
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
      out.set(fp, parseAndDecode(StoredResult, text, `the result of job ${fp.slice(0, 12)}…`));
  });
  return out;
};

/** How many refused second writes each job had (jobs with none are absent). */
export const readDuplicates = async (redis: Redis, queue: string): Promise<Map<string, number>> => {
  const raw = await redis.hgetall(keys(queue).duplicates);
  return new Map(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
};

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

/** A BullMQ queue object for `url` (close it with `close()`). */
export const openQueue = (url: string, queue: string): Queue =>
  new Queue(queue, { connection: bullConnection(url), prefix: bullPrefix });

/**
 * Adds `jobs` to the queue under their fingerprints, skipping those with a stored result or
 * already known to BullMQ, and retrying those that failed for good; safe to call again with the
 * same jobs (a re-submitted sweep adds nothing twice).
 */
export const enqueue = async (
  url: string,
  queue: string,
  redis: Redis,
  jobs: readonly JobData[],
): Promise<EnqueueSummary> => {
  const q = openQueue(url, queue);
  try {
    const results = await readResults(
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

/** Per-job state: `done` when its result is stored, else BullMQ's state. */
export const jobStates = async (
  url: string,
  queue: string,
  redis: Redis,
  fingerprints: readonly string[],
): Promise<Map<string, { state: JobState; attempts: number; error: string | null }>> => {
  const q = openQueue(url, queue);
  try {
    const results = await readResults(redis, queue, fingerprints);
    const out = new Map<string, { state: JobState; attempts: number; error: string | null }>();
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
};
