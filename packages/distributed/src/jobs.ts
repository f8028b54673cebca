/**
 * The jobs and results as they travel through Redis, each with its io-ts codec: nothing read from
 * Redis is used before it is decoded. Keys live under `wider:<queue>:` next to BullMQ's own.
 *
 * @module
 */

import { decode, orThrow } from "@wider/errors";
import type * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { attemptSync, type DistributedError, fail } from "./errors.js";
import { fingerprint } from "./fingerprint.js";

/** A non-negative safe integer. */
export const NonNegativeInt = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0,
  "NonNegativeInt",
);

/** A 64-digit lowercase hex SHA-256. */
export const Fingerprint = t.refinement(t.string, (s) => /^[0-9a-f]{64}$/.test(s), "Fingerprint");

/** One run of a sweep: a configuration and a seed. */
export const RunJob = t.type({
  kind: t.literal("run"),
  fingerprint: Fingerprint,
  sweep: t.string,
  /** Fingerprint of the configuration without the seed: the aggregate's group. */
  configKey: Fingerprint,
  /** The grid values of this configuration, for reports (`{ lr: 0.05 }`). */
  label: t.UnknownRecord,
  seed: NonNegativeInt,
  config: t.UnknownRecord,
});
/** One run of a sweep. */
export type RunJob = t.TypeOf<typeof RunJob>;

/** One point of a distributed geometry plan. */
export const PointJob = t.type({
  kind: t.literal("point"),
  fingerprint: Fingerprint,
  planId: Fingerprint,
  /** The plan's directory, relative to the worker's shared directory. */
  plan: t.string,
  index: NonNegativeInt,
  /** What the worker needs to build the model and data the point is evaluated on. */
  evaluator: t.UnknownRecord,
});
/** One point of a plan. */
export type PointJob = t.TypeOf<typeof PointJob>;

/** One member of SWAP's phase 2: continue from the phase-1 weights with its own data order. */
export const SwapJob = t.type({
  kind: t.literal("swap"),
  fingerprint: Fingerprint,
  swapId: t.string,
  member: NonNegativeInt,
  /** The phase-1 weights' directory, relative to the worker's shared directory. */
  from: t.string,
  /** What to train (the handler's business: epochs, batch size, data seed, …). */
  task: t.UnknownRecord,
});
/** One SWAP member. */
export type SwapJob = t.TypeOf<typeof SwapJob>;

/** Any job. */
export const JobData = t.union([RunJob, PointJob, SwapJob]);
/** Any job. */
export type JobData = t.TypeOf<typeof JobData>;

/** The inputs a job's fingerprint is taken over (everything but the fingerprint and labels). */
export const jobInputs = (job: JobData): unknown => {
  switch (job.kind) {
    case "run":
      return { kind: "run", config: job.config, seed: job.seed };
    case "point":
      return { kind: "point", planId: job.planId, index: job.index, evaluator: job.evaluator };
    case "swap":
      return {
        kind: "swap",
        swapId: job.swapId,
        member: job.member,
        from: job.from,
        task: job.task,
      };
  }
};

/** A finished job's result, stored once under its fingerprint. */
export const StoredResult = t.type({
  fingerprint: Fingerprint,
  kind: t.keyof({ run: null, point: null, swap: null }),
  /** The worker that wrote it (`host/pid/n`). */
  worker: t.string,
  finishedAt: t.string,
  /** Wall seconds of the attempt that wrote it. */
  seconds: t.number,
  /** BullMQ's attempt number (1 = first try; a stalled or failed try counts). */
  attempt: t.number,
  /** The handler's output; its own codec decodes it. */
  output: t.unknown,
});
/** A stored result. */
export type StoredResult = t.TypeOf<typeof StoredResult>;

/** The fix of data in Redis that does not decode. */
const CLEAR =
  "it was written by another version or by something else: clear it or use another --queue";

/**
 * Decodes `value` (read back from Redis) with `codec`; a failure is a `corrupt`
 * `Left<DistributedError>` naming `what` and the bad fields (`@wider/errors`' `decode`).
 */
export const decodeStored = <A, O>(
  codec: t.Type<A, O, unknown>,
  value: unknown,
  what: string,
): E.Either<DistributedError, A> =>
  decode(codec, value, {
    tag: "DistributedError",
    kind: "corrupt",
    where: `${what} does not have the expected shape (${CLEAR})`,
    fix: CLEAR,
  });

/** {@link decodeStored}, throwing (internal: inside `attempt`, the caller's `Left`). */
export const decodeOrFail = <A, O>(codec: t.Type<A, O, unknown>, value: unknown, what: string): A =>
  orThrow(decodeStored(codec, value, what));

/**
 * Parses JSON text read from Redis and decodes it with `codec`; text that is not JSON or does not
 * decode is a `corrupt` `Left<DistributedError>` (see {@link decodeStored}).
 */
export const parseAndDecode = <A, O>(
  codec: t.Type<A, O, unknown>,
  text: string,
  what: string,
): E.Either<DistributedError, A> => attemptSync(() => parseOrFail(codec, text, what));

/** {@link parseAndDecode}, throwing (internal: inside `attempt`, the caller's `Left`). */
export const parseOrFail = <A, O>(codec: t.Type<A, O, unknown>, text: string, what: string): A => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail("corrupt", `${what} is not JSON; clear it or use another --queue`, {
      value: text.length > 60 ? `${text.slice(0, 57)}...` : text,
      fix: "clear it or use another --queue",
    });
  }
  return decodeOrFail(codec, json, what);
};

/**
 * Checks a job's fingerprint against its inputs (and its BullMQ id); a mismatch means it was
 * altered in Redis: a `corrupt` `Left<DistributedError>`.
 */
export const checkFingerprint = (
  job: JobData,
  jobId: string | undefined,
): E.Either<DistributedError, JobData> =>
  attemptSync(() => {
    const expected = fingerprint(jobInputs(job));
    if (job.fingerprint !== expected || (jobId !== undefined && jobId !== expected))
      fail(
        "corrupt",
        `job ${jobId ?? "?"}: its fingerprint does not match its inputs (expected ${expected.slice(0, 12)}…); it was altered in Redis, so it is refused`,
      );
    return job;
  });

/** The Redis keys of a queue's own records (BullMQ's keys sit beside them under the same prefix). */
export const keys = (queue: string) => ({
  results: `wider:${queue}:results`,
  duplicates: `wider:${queue}:duplicates`,
  sweeps: `wider:${queue}:sweeps`,
  plans: `wider:${queue}:plans`,
  swaps: `wider:${queue}:swaps`,
});

/** BullMQ's key prefix for Wider's queues. */
export const bullPrefix = "wider-bull";

/** The default queue name. */
export const defaultQueue = "wider";
