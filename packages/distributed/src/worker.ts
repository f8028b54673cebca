/**
 * The worker: a BullMQ worker that decodes each job with its codec, checks its fingerprint,
 * skips it when its result is stored already, confines its paths to the worker's directories,
 * runs the injected handler and stores the result once. The package knows no app: what a run,
 * a plan's point or a SWAP member does is the handler's business.
 *
 * Heartbeat and stalled jobs (BullMQ): the worker holds a lock on each active job for
 * `lockDurationMs` and renews it every `lockDurationMs / 2`; every `stalledIntervalMs` each worker
 * looks for active jobs whose lock expired (their worker died, or its event loop was blocked for
 * longer than `lockDurationMs`) and puts them back in the queue, up to `maxStalledCount` times.
 * Defaults: 60 s lock, 30 s check, 3 stalls; a job of a killed worker is taken up again within
 * lock + check = 90 s. A handler must yield to the event loop more often than the lock length
 * (the reference app's training awaits each step).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { UpdateBatchNormOptions } from "@wider/averaging";
import { orThrow } from "@wider/errors";
import type { BatchNormBatches, Metrics } from "@wider/geometry";
import type { AssignOptions } from "@wider/weights";
import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from "bullmq";
import * as E from "fp-ts/lib/Either.js";
import { Redis } from "ioredis";
import { attempt, type DistributedError, isDistributedError } from "./errors.js";
import { canonicalJson } from "./fingerprint.js";
import { evaluatePoint, type PlanCache, planCache } from "./geometry.js";
import {
  bullPrefix,
  checkFingerprint,
  decodeOrFail,
  defaultQueue,
  JobData,
  keys,
  type RunJob,
  type SwapJob,
} from "./jobs.js";
import { confine } from "./paths.js";
import { redisOptions } from "./redis.js";
import { writeResult } from "./store.js";

/** What a handler gets besides its job. */
export interface JobContext {
  /** The job's own directory inside the shared directory (`runs/<fp>`, `swap/<id>/member-<m>`). */
  readonly outDir: string;
  /** Whether `outDir` exists already: an earlier attempt started there (resume from it). */
  readonly resumable: boolean;
  /** BullMQ's attempt number (1 on the first try). */
  readonly attempt: number;
  /** This worker's id (`host/pid`). */
  readonly worker: string;
  /** Confines a path the job names to the worker's directories (see `confine`: else a `Left`). */
  readonly confine: (path: string, what: string) => E.Either<DistributedError, string>;
}

/** How a worker evaluates a plan's points: what `evaluatePlan` takes, for one evaluator. */
export interface PointSetup {
  readonly model: tfl.LayersModel;
  readonly evaluate: (model: tfl.LayersModel) => Promise<Metrics>;
  readonly bnBatches?: BatchNormBatches;
  readonly bnOptions?: UpdateBatchNormOptions;
  readonly assign?: AssignOptions;
}

/** The injected work: a handler per job kind (a kind without one is refused by this worker). */
export interface Handlers {
  /** Runs one configuration with one seed; returns its (JSON) report. */
  readonly run?: (job: RunJob, ctx: JobContext) => Promise<unknown>;
  /** Builds the model and data of an evaluator (called once per distinct evaluator, kept). */
  readonly point?: (evaluator: Readonly<Record<string, unknown>>) => Promise<PointSetup>;
  /** Trains one SWAP member from `ctx.confine(job.from)`; saves its weights into `ctx.outDir`. */
  readonly swap?: (job: SwapJob, ctx: JobContext) => Promise<unknown>;
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Redis URL (`redis://`, `rediss://`, with a password when the server wants one). */
  readonly redis: string;
  readonly queue?: string;
  /** Jobs at once in this process (default 1; tfjs runs want one per process). */
  readonly concurrency?: number;
  /** The shared directory (outputs, plans, checkpoints) and extra read-only roots (data). */
  readonly dirs: { readonly work: string; readonly read?: readonly string[] };
  readonly handlers: Handlers;
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly maxStalledCount?: number;
  /** Called on each finished, skipped or failed job (logs). */
  readonly onEvent?: (event: WorkerEvent) => void;
}

/** What happened to a job in this worker. */
export interface WorkerEvent {
  readonly type: "stored" | "already-stored" | "failed";
  readonly jobId: string;
  readonly kind: string;
  readonly seconds: number;
  readonly message?: string;
}

/** A running worker. */
export interface WorkerHandle {
  readonly worker: Worker;
  readonly id: string;
  /** Stops taking jobs, waits for the active ones, closes the connections. */
  readonly close: () => Promise<void>;
}

/** Lock, stalled-check and stall-count defaults (see the module comment). */
export const workerDefaults = {
  lockDurationMs: 60_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 3,
};

const outDirOf = (work: string, job: JobData): E.Either<DistributedError, string> => {
  switch (job.kind) {
    case "run":
      return confine([work], join("runs", job.fingerprint), "run directory");
    case "point":
      return confine([work], join("points", job.planId), "point directory");
    case "swap":
      return confine(
        [work],
        join("swap", job.swapId, `member-${job.member}`),
        "SWAP member directory",
      );
  }
};

/**
 * Starts a worker on `options.redis`; it takes jobs until `close()`. A bad Redis URL (`config`)
 * or a Redis that refuses it while it starts (a wrong password: `io`, `path: "redis"`) is a
 * `Left`; a Redis that is down is waited for (the worker starts when it comes back). Once started, a job whose handler
 * throws (or rejects) is failed in BullMQ: at once, without retries, for a `DistributedError` of
 * kind `config`, `corrupt` or `shape` (a handler turns a `Left` it cannot recover from into one
 * with `orThrow`), otherwise retried up to its attempts.
 *
 * @example
 * const w = await startWorker({ redis: "redis://127.0.0.1:6379", dirs: { work: "/shared/wider" }, handlers: { run: myRun } });
 * if (E.isRight(w)) await w.right.close();
 */
export const startWorker = async (
  options: WorkerOptions,
): Promise<E.Either<DistributedError, WorkerHandle>> => {
  const checked = redisOptions(options.redis);
  if (E.isLeft(checked)) return checked;
  const connection = checked.right;
  const queue = options.queue ?? defaultQueue;
  const work = options.dirs.work;
  const roots = [work, ...(options.dirs.read ?? [])];
  const id = `${hostname()}/${process.pid}`;
  const redis = new Redis(connection);
  redis.on("error", () => {}); // reconnects; a worker waits for Redis to come back
  // A refused password fails at once (a Left); a Redis that is down is waited for.
  const reachable = await attempt(() => redis.ping());
  if (E.isLeft(reachable)) {
    redis.disconnect();
    return reachable;
  }
  const setups = new Map<string, Promise<PointSetup>>();
  const plans: PlanCache = planCache();

  const handle = async (job: JobData, attempt: number): Promise<unknown> => {
    const outDir = orThrow(outDirOf(work, job));
    const ctx: JobContext = {
      outDir,
      resumable: existsSync(outDir),
      attempt,
      worker: id,
      confine: (p, what) => confine(roots, p, what),
    };
    const missing = (kind: string) =>
      new UnrecoverableError(
        `this worker has no handler for ${kind} jobs; start a worker that has one`,
      );
    switch (job.kind) {
      case "run":
        if (options.handlers.run === undefined) throw missing("run");
        return options.handlers.run(job, ctx);
      case "swap":
        if (options.handlers.swap === undefined) throw missing("swap");
        return options.handlers.swap(job, ctx);
      case "point": {
        const make = options.handlers.point;
        if (make === undefined) throw missing("point");
        const key = canonicalJson(job.evaluator);
        let setup = setups.get(key);
        if (setup === undefined) {
          setup = make(job.evaluator);
          setups.set(key, setup);
        }
        const plan = orThrow(
          await plans.get(orThrow(confine([work], job.plan, "plan directory")), job.planId),
        );
        return orThrow(await evaluatePoint(plan, job.index, await setup));
      }
    }
  };

  const processor = async (job: Job): Promise<{ stored: boolean }> => {
    const started = Date.now();
    let data: JobData;
    try {
      data = decodeOrFail(JobData, job.data, `job ${job.id}`);
      orThrow(checkFingerprint(data, job.id));
    } catch (e) {
      throw new UnrecoverableError((e as Error).message);
    }
    const k = keys(queue);
    if ((await redis.hexists(k.results, data.fingerprint)) === 1) {
      options.onEvent?.({
        type: "already-stored",
        jobId: data.fingerprint,
        kind: data.kind,
        seconds: 0,
      });
      return { stored: false };
    }
    const attempt = job.attemptsStarted;
    let output: unknown;
    try {
      output = await handle(data, attempt);
    } catch (e) {
      const message = (e as Error).message;
      options.onEvent?.({
        type: "failed",
        jobId: data.fingerprint,
        kind: data.kind,
        seconds: (Date.now() - started) / 1000,
        message,
      });
      if (
        isDistributedError(e) &&
        (e.kind === "config" || e.kind === "corrupt" || e.kind === "shape")
      )
        throw new UnrecoverableError(message);
      throw e;
    }
    const seconds = (Date.now() - started) / 1000;
    const stored = orThrow(
      await writeResult(redis, queue, {
        fingerprint: data.fingerprint,
        kind: data.kind,
        worker: id,
        finishedAt: new Date().toISOString(),
        seconds,
        attempt,
        output: output ?? null,
      }),
    );
    options.onEvent?.({
      type: stored ? "stored" : "already-stored",
      jobId: data.fingerprint,
      kind: data.kind,
      seconds,
    });
    return { stored };
  };

  const worker = new Worker(queue, processor, {
    // BullMQ's looser copy of ioredis's option type (see `bullConnection`).
    connection: connection as ConnectionOptions,
    prefix: bullPrefix,
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDurationMs ?? workerDefaults.lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? workerDefaults.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount ?? workerDefaults.maxStalledCount,
  });
  worker.on("error", () => {
    // Connection errors while Redis restarts: ioredis reconnects and the worker resumes.
  });
  const close = async () => {
    await worker.close();
    plans.clear();
    redis.disconnect();
  };
  const ready = await attempt(() => worker.waitUntilReady());
  if (E.isLeft(ready)) {
    await close();
    return ready;
  }
  return E.right({ worker, id, close });
};
