/**
 * `wider worker --redis URL --dir DIR [--concurrency N] [--read DIR]... [--queue NAME]`: takes
 * sweep jobs from Redis and runs each as an ordinary run (`runExperiment`) in `DIR/runs/<job
 * fingerprint>/`, the points of a run's geometry plans (`wider --geometry-redis`), and `wider swap`'s member jobs (`trainSwapMember`, in `DIR/swap/<id>/member-<m>`); when DIR is shared between machines, a job whose worker died resumes from its
 * checkpoint there. `--concurrency N` starts N worker processes (tfjs runs one model per process
 * well; wasm uses one thread each). A job's data directory must lie inside `--dir` or a `--read`.
 * First Ctrl-C / SIGTERM: finish the current job and stop; second: stop at the next step (the job
 * is retried elsewhere, from its checkpoint).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { distributedError, redactUrl, startWorker, workerDefaults } from "@wider/distributed";
import { orThrow, raise } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "../AppError.js";
import { Config } from "../config.js";
import { withAddedFields } from "../configFields.js";
import { pointSetup } from "../distributedGeometry.js";
import { makeProgress } from "../progress.js";
import { runExperiment } from "../run.js";
import { checkpointDir } from "../runChecks.js";
import { seedConfig } from "../seeds.js";
import { trainSwapMember } from "../swap.js";
import {
  asAppErrors,
  orAppError,
  parseSubcommand,
  positiveInt,
  redisFlag,
  str,
  subcommandHelp,
} from "./common.js";
import { workerSpec } from "./specs.js";

const usage = `wider worker ${workerSpec.usage}`;

/** Runs `wider worker`; resolves to the exit code when the worker stops. */
export const workerCommand = async (argv: readonly string[]): Promise<number> => {
  const v = parseSubcommand(workerSpec, argv);
  if (v.help === true) {
    process.stdout.write(subcommandHelp(workerSpec));
    return 0;
  }
  const redis = redisFlag("worker", v.redis, usage);
  const dirFlag = str(v.dir);
  if (dirFlag === undefined || dirFlag === "")
    throw new AppError(
      `worker: --dir DIR is required (the directory runs are written to; share it between machines to resume a dead worker's job); usage: ${usage}`,
    );
  const dir = resolve(dirFlag);
  const concurrency = positiveInt("--concurrency", v.concurrency, 1);
  const lockDurationMs = positiveInt("--lock-ms", v["lock-ms"], workerDefaults.lockDurationMs);
  const stalledIntervalMs = positiveInt(
    "--stalled-ms",
    v["stalled-ms"],
    workerDefaults.stalledIntervalMs,
  );
  const queue = str(v.queue) ?? "wider";
  await mkdir(dir, { recursive: true });

  if (concurrency > 1) return runChildren(argv, concurrency);

  const signal = { aborted: false };
  const progress = makeProgress(process.stdout, true);
  const read = (Array.isArray(v.read) ? v.read : []).map((r) => resolve(String(r)));
  const started = await asAppErrors(() =>
    startWorker({
      redis,
      queue,
      dirs: { work: dir, read },
      lockDurationMs,
      stalledIntervalMs,
      handlers: {
        run: async (job, ctx) => {
          const decoded = Config.decode(withAddedFields(job.config));
          if (E.isLeft(decoded))
            raise(
              distributedError(
                "corrupt",
                `job ${job.fingerprint.slice(0, 12)}…: its config is not a valid run configuration of this wider version`,
              ),
            );
          const seeded = seedConfig(decoded.right, job.seed);
          // A path outside the worker's directories fails the job for good (a `config` error).
          const dataDir =
            seeded.dataDir === null ? null : orThrow(ctx.confine(seeded.dataDir, "dataDir"));
          const config: Config = { ...seeded, dataDir, out: ctx.outDir };
          const resume = existsSync(join(checkpointDir(ctx.outDir), "manifest.json"));
          progress.log(
            `worker ${ctx.worker}: ${resume ? "resuming" : "starting"} ${job.sweep} ${JSON.stringify(job.label)} seed ${job.seed} (attempt ${ctx.attempt}) in ${ctx.outDir}`,
          );
          const report = await runExperiment(config, { resume, force: !resume, progress, signal });
          return JSON.parse(JSON.stringify(report)) as unknown;
        },
        point: pointSetup([dir, ...read]),
        swap: async (job, ctx) => {
          progress.log(
            `worker ${ctx.worker}: SWAP ${job.swapId} member ${job.member} (attempt ${ctx.attempt}) in ${ctx.outDir}`,
          );
          return trainSwapMember(job.task, {
            member: job.member,
            outDir: ctx.outDir,
            confine: (p, what) => orThrow(ctx.confine(p, what)),
            progress,
            signal,
          });
        },
      },
      onEvent: (e) =>
        progress.log(
          `worker: job ${e.jobId.slice(0, 12)}… ${e.type}${e.seconds > 0 ? ` after ${e.seconds.toFixed(1)}s` : ""}${e.message === undefined ? "" : `: ${e.message}`}`,
        ),
    }),
  );
  const handle = orAppError(started);
  progress.log(
    `worker ${handle.id}: taking jobs from ${redactUrl(redis)} queue ${queue}; runs in ${dir}`,
  );
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = () => {
      if (stopping) {
        signal.aborted = true;
        return;
      }
      stopping = true;
      progress.log(
        "worker: finishing the current job, then stopping (again to stop at the next step)",
      );
      handle.close().then(done, done);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
};

/** `--concurrency N`: N child workers of this binary; signals are passed on. */
const runChildren = async (argv: readonly string[], n: number): Promise<number> => {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--concurrency") i++;
    else if (!a.startsWith("--concurrency=")) rest.push(a);
  }
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, [process.argv[1] as string, "worker", ...rest, "--concurrency", "1"], {
      stdio: ["ignore", "inherit", "inherit"],
    }),
  );
  const forward = (s: NodeJS.Signals) => () => {
    for (const c of children) c.kill(s);
  };
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));
  const codes = await Promise.all(
    children.map(
      (c) =>
        new Promise<number>((r) =>
          c.on("exit", (code, sig) => r(code ?? (sig === null ? 1 : 130))),
        ),
    ),
  );
  return codes.find((c) => c !== 0) ?? 0;
};
