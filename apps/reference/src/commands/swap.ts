/**
 * `wider swap --redis URL --dir DIR --workers-jobs W [config flags]`: SWAP across machines.
 * Phase 1 runs here (an ordinary run in `DIR/swap/<id>/phase1`, or a finished run named with
 * `--from RUN`); phase 2 enqueues W member jobs (`submitSwap`) that `wider worker --dir DIR`
 * processes take; phase 3 (here, once they are all in) averages their weights, re-estimates
 * BatchNorm, evaluates and writes `swap.{json,md,html}` comparing SWAP with the run's own SGD and
 * SWA at equal epochs per model. Running it again reuses every finished piece (the phase-1 run,
 * stored member results).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  averageSwap,
  fingerprint,
  jobStates,
  readResults,
  redactUrl,
  submitSwap,
  swapMemberDir,
} from "@wider/distributed";
import { disposeTrainingState, saveTrainingState } from "@wider/training";
import { disposeWeights, type Json } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import type { Redis } from "ioredis";
import { AppError } from "../AppError.js";
import { chooseBackend } from "../backend.js";
import { loadCheckpoint, readCheckpointConfig } from "../checkpoint.js";
import { cliOf, configOf } from "../cliArgs.js";
import type { Config } from "../config.js";
import { lockOutDir, type OutLock } from "../lock.js";
import { writeTextFilesAtomic } from "../outputDir.js";
import { makeProgress } from "../progress.js";
import { runExperiment } from "../run.js";
import { checkpointDir, hasCheckpoint } from "../runChecks.js";
import { type SwapSettings, swapTask } from "../swap.js";
import { evaluateSwap, type SwapEvaluation } from "../swapEvaluate.js";
import { asAppErrors, cliConnect, orAppError, positiveInt, redisFlag } from "./common.js";
import { parseSwapArgs, positiveNumber, swapHelp, swapUsage as usage } from "./swapArgs.js";
import { RunReportC, type SwapReport, swapHtml, swapMarkdown, swapRows } from "./swapReport.js";
import { progressBar, sweepOutPlaceholder } from "./sweep.js";

/** Runs `wider swap …`; resolves to the exit code. */
export const swapCommand = async (argv: readonly string[]): Promise<number> => {
  const { own, values, configFlags, help, quiet } = parseSwapArgs(argv);
  if (help) {
    process.stdout.write(swapHelp());
    return 0;
  }
  const url = redisFlag("swap", own.redis, usage);
  if (own.dir === undefined || own.dir === "")
    throw new AppError(
      `swap: --dir DIR is required (the directory shared with the workers: give them the same --dir); usage: ${usage}`,
    );
  const dir = resolve(own.dir);
  if (own["workers-jobs"] === undefined)
    throw new AppError(
      `swap: --workers-jobs W is required (the number of SWAP members); usage: ${usage}`,
    );
  const members = positiveInt("--workers-jobs", own["workers-jobs"], 1);
  const queue = own.queue ?? "wider";
  let config: Config;
  let phase1: string;
  if (own.from !== undefined) {
    if (configFlags.length > 0)
      throw new AppError(
        `swap: --from ${own.from} reuses a finished run with its own configuration; drop the config flags (${configFlags.join(" ")})`,
      );
    phase1 = resolve(own.from);
    if (!hasCheckpoint(phase1))
      throw new AppError(
        `swap: --from ${phase1} holds no run checkpoint; name a finished wider run`,
      );
    config = await readCheckpointConfig(checkpointDir(phase1));
  } else {
    const cli = cliOf(values);
    if (cli.resume || cli.force || cli.seeds !== null)
      throw new AppError(
        "swap: --resume, --force and --seeds do not apply; rerunning wider swap reuses what is finished",
      );
    config = await configOf(cli);
    phase1 = "";
  }
  const memberBatchSize = positiveInt(
    "--swap-batch-size",
    own["swap-batch-size"],
    Math.max(1, Math.floor(config.batchSize / 4)),
  );
  const settings: SwapSettings = {
    members,
    batchSize: memberBatchSize,
    lrScale:
      positiveNumber("--swap-lr-scale", own["swap-lr-scale"]) ?? memberBatchSize / config.batchSize,
  };
  const swapId = `swap-${fingerprint({
    config: { ...config, out: sweepOutPlaceholder },
    phase1: own.from === undefined ? null : phase1,
    ...settings,
  }).slice(0, 16)}`;
  const home = join(dir, "swap", swapId);
  if (phase1 === "") phase1 = join(home, "phase1");
  const reportDir = resolve(own.report ?? home);
  config = { ...config, out: phase1 };
  const progress = makeProgress(process.stdout, quiet);
  const signal = { aborted: false };
  const onSignal = () => {
    signal.aborted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const { client, lastError } = cliConnect(url);
  let lock: OutLock | undefined;
  try {
    return await asAppErrors(async () => {
      await client.ping();
      // One wider swap at a time per SWAP id on this shared directory (phase 1 writes there).
      await mkdir(home, { recursive: true });
      lock = await lockOutDir(home, () => {
        signal.aborted = true;
      });
      progress.log(
        `swap ${swapId}: ${members} members, Redis ${redactUrl(url)} queue ${queue}, shared directory ${dir}`,
      );
      // Phase 1: the run (reused when finished).
      const t1 = Date.now();
      const reportFile = join(phase1, "report.json");
      if (!existsSync(reportFile)) {
        if (own.from !== undefined)
          throw new AppError(
            `swap: --from ${phase1} has no report.json; finish it with wider --resume --out ${phase1}`,
          );
        await mkdir(phase1, { recursive: true });
        progress.log(`phase 1: the run in ${phase1}`);
        await runExperiment(config, {
          resume: hasCheckpoint(phase1),
          force: false,
          progress,
          signal,
        });
      } else progress.log(`phase 1: reusing the finished run in ${phase1}`);
      const runReport = RunReportC.decode(JSON.parse(await readFile(reportFile, "utf8")));
      if (E.isLeft(runReport))
        throw new AppError(`swap: ${reportFile} is not a wider run report of this version`, 1);
      const seconds1 = (Date.now() - t1) / 1000;
      // Phase 2: the start state, the members.
      const t2 = Date.now();
      const statePath = join("swap", swapId, "start-state");
      // The run's backend (phase 1 chose it unless it was reused) before any tensor is made.
      await chooseBackend(config.backend);
      const ck = await loadCheckpoint(checkpointDir(phase1));
      let fps: string[];
      try {
        const pretrained = ck.states.pretrained;
        if (pretrained === undefined || ck.state.track !== "done")
          throw new AppError(
            `swap: the run in ${phase1} has no finished pretrained point; finish it first`,
            1,
          );
        if (!existsSync(join(dir, statePath, "manifest.json"))) {
          const saved = await saveTrainingState(join(dir, statePath), pretrained, { swapId });
          if (E.isLeft(saved))
            throw new AppError(`swap: cannot save the start state: ${saved.left.message}`, 1);
        }
        const submitted = await submitSwap({
          redis: url,
          queue,
          client,
          sharedDir: dir,
          swapId,
          start: pretrained.weights,
          members,
          // The task is built from JSON values (the config is JSON-round-tripped in swapTask).
          task: (m) =>
            swapTask(config, settings, statePath, m) as unknown as Readonly<Record<string, Json>>,
        });
        const { summary, jobs } = orAppError(submitted, lastError);
        fps = jobs.map((j) => j.fingerprint);
        progress.log(
          `phase 2: ${members} member jobs: ${summary.added} added, ${summary.done} done already, ${summary.present} queued or running, ${summary.retried} failed ones retried; start wider worker --redis URL --dir ${dir}`,
        );
      } finally {
        for (const s of Object.values(ck.states)) disposeTrainingState(s);
        for (const g of Object.values(ck.groups)) disposeWeights(g);
      }
      await waitMembers(url, queue, client, fps, progress, signal, lastError);
      const seconds2 = (Date.now() - t2) / 1000;
      // Phase 3: average, BatchNorm, evaluate, report.
      const t3 = Date.now();
      progress.log("phase 3: averaging the members, re-estimating BatchNorm, evaluating");
      const { mean, outputs } = orAppError(
        await averageSwap(client, queue, dir, swapId),
        lastError,
      );
      let ev: SwapEvaluation;
      try {
        ev = await evaluateSwap(
          config,
          mean,
          Array.from({ length: members }, (_, m) => join(dir, swapMemberDir(swapId, m))),
        );
      } finally {
        disposeWeights(mean);
      }
      const report: SwapReport = {
        tool: "wider",
        kind: "swap",
        version: 1,
        createdAt: new Date().toISOString(),
        swapId,
        phase1,
        config,
        members,
        memberBatchSize,
        lrScale: settings.lrScale,
        backend: ev.backend,
        rows: swapRows(config, runReport.right, ev, memberBatchSize),
        memberOutputs: outputs,
        seconds: { phase1: seconds1, phase2: seconds2, phase3: (Date.now() - t3) / 1000 },
        notes: [
          `Equal epochs per model: SGD trains ${config.epochs} epochs; SWA and each SWAP member share the first ${config.swaStart} (the run's SGD to its pretrained point), then SWA averages along one trajectory and each SWAP member trains epochs ${config.swaStart}..${config.epochs} on its own data order.`,
          `SWAP members continue from the pretrained state's weights and momentum; their rate is the run's SGD rate at the same point of the epoch times ${settings.lrScale}; their data order of epoch e is seeded by (deriveSeed(dataSeed, 1000003 + m), e) over the run's training images.`,
          "The average is BatchNorm re-estimated on one pass of the training data (as the run's SWA); members are scored with their own BatchNorm statistics.",
          `SWAP costs ${members} x ${config.epochs - config.swaStart} epochs of phase-2 compute in all, spread over the workers.`,
        ],
      };
      await mkdir(reportDir, { recursive: true });
      await writeTextFilesAtomic([
        [join(reportDir, "swap.json"), `${JSON.stringify(report, null, 2)}\n`],
        [join(reportDir, "swap.md"), swapMarkdown(report)],
        [join(reportDir, "swap.html"), swapHtml(report)],
      ]);
      process.stdout.write(
        `${swapMarkdown(report)}\nwritten: ${join(reportDir, "swap.{json,md,html}")}\n`,
      );
      return 0;
    }, lastError);
  } finally {
    await lock?.release();
    client.disconnect();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
};

/** Waits for every member's result (a progress bar); a failed member is an error naming it. */
const waitMembers = async (
  url: string,
  queue: string,
  client: Redis,
  fps: readonly string[],
  progress: ReturnType<typeof makeProgress>,
  signal: { readonly aborted: boolean },
  lastError: () => Error | null,
): Promise<void> => {
  let last = "";
  for (;;) {
    const done = orAppError(await readResults(client, queue, fps), lastError).size;
    if (done === fps.length) {
      progress.log(`phase 2: ${progressBar(done, fps.length)} members done`);
      return;
    }
    const states = orAppError(await jobStates(url, queue, client, fps), lastError);
    const failed = [...states.entries()].filter(([, s]) => s.state === "failed");
    if (failed.length > 0)
      throw new AppError(
        `swap: ${failed.length} member jobs failed (${failed[0]?.[1].error ?? "?"}); fix the cause and run wider swap again (failed members are retried)`,
        1,
      );
    const line = `phase 2: ${progressBar(done, fps.length)} members done`;
    if (line !== last) progress.log(line);
    last = line;
    if (signal.aborted)
      throw new AppError(
        "swap: stopped while waiting; the members go on in the workers; run the same wider swap again to collect them",
        130,
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
};
