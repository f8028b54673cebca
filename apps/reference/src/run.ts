/**
 * One run of the experiment, end to end: output directory policy, backend, data, model,
 * training (resumable), evaluation, geometry, report. The checks before anything is written are
 * in `runChecks.ts`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { disposeSwagState } from "@wider/swag";
import { disposeTrainingState } from "@wider/training";
import { disposeWeights } from "@wider/weights";
import { Interrupted } from "./AppError.js";
import { type BackendInfo, chooseBackend } from "./backend.js";
import { bnBatches } from "./batches.js";
import type { Config } from "./config.js";
import { geometryFields, trajectoryFields } from "./configFields.js";
import { loadAppDataset, ranges } from "./dataset.js";
import { evaluateAll } from "./evaluate.js";
import { runGeometry } from "./geometry.js";
import type { RemotePlans } from "./geometryEval.js";
import { buildAppModel, hasBatchNorm, parameterCount } from "./models.js";
import { fsError, writeTextAtomic } from "./outputDir.js";
import type { Progress } from "./progress.js";
import { type Report, scheduleSamples, writeReport } from "./report.js";
import { checkpointDir, checkRun, prepareOutDir } from "./runChecks.js";
import { train } from "./training.js";
import { runTrajectory, type TrajectoryResult } from "./trajectoryPlane.js";

/** Throws {@link Interrupted} naming `where` when a stop was asked for. */
const stopIf = (signal: { readonly aborted: boolean }, where: string): void => {
  if (signal.aborted) throw new Interrupted(where);
};

/**
 * Keeps the analysis results in `dir` only if they were computed with the same settings `fields`
 * (they may change on `--resume`): otherwise they are removed; then the settings are recorded.
 */
const analysisSettings = async (
  config: Config,
  dir: string,
  fields: ReadonlyArray<keyof Config>,
): Promise<void> => {
  const file = join(dir, "settings.json");
  const now = JSON.stringify(Object.fromEntries(fields.map((f) => [f, config[f]])));
  const was = await readFile(file, "utf8").catch(() => null);
  if (was?.trim() === now) return;
  if (existsSync(dir))
    await rm(dir, { recursive: true, force: true }).catch((e: unknown) => {
      throw fsError("remove the stale analysis results", dir, e);
    });
  await mkdir(dir, { recursive: true }).catch((e: unknown) => {
    throw fsError("create", dir, e);
  });
  await writeTextAtomic(file, `${now}\n`);
};

/** What a run needs besides its config. */
export interface RunOptions {
  readonly resume: boolean;
  readonly force: boolean;
  readonly progress: Progress;
  /** Set by the signal handlers (and a lost lock); checked after every step. */
  readonly signal: { aborted: boolean };
  /** Evaluates the geometry plans elsewhere (`--geometry-redis`); local when absent. */
  readonly geometryRemote?: RemotePlans;
}

/** Runs the experiment; returns the report (also written to `config.out`). */
export const runExperiment = async (config: Config, options: RunOptions): Promise<Report> => {
  const { progress, signal } = options;
  const started = Date.now();
  // Every check first (directory policy, data, backend, checkpoint, sizes); only then effects.
  await prepareOutDir(config.out, options, true);
  const data = await loadAppDataset(config);
  const backend: BackendInfo = await chooseBackend(config.backend);
  const model = buildAppModel(
    config.model,
    { imageShape: data.imageShape, classes: data.classes },
    config.seed,
  );
  try {
    await checkRun(config, options, data, model, backend.name);
  } catch (e) {
    model.dispose();
    throw e;
  }
  progress.log(`backend: ${backend.name} (${backend.reason})`);
  await prepareOutDir(config.out, options);
  const testIdx = ranges(data.test.count, data.test.count)[0] ?? new Int32Array(0);
  const curveIdx = testIdx.subarray(0, Math.min(2000, testIdx.length));
  const notes: string[] = [];
  if (data.train.count < data.trainTotal)
    notes.push(
      `Trained on a seeded subset of ${data.train.count} of the ${data.trainTotal} training images (--train-subset 0 uses all).`,
    );
  progress.log(
    `data: ${data.name} (${data.train.count} of ${data.trainTotal} training images${data.train.count < data.trainTotal ? ", a seeded subset" : ""}, ${testIdx.length} test); model: ${config.model} (${parameterCount(model).toLocaleString("en")} parameters); out: ${config.out}`,
  );

  let trained: Awaited<ReturnType<typeof train>>;
  try {
    trained = await train(
      {
        config,
        data,
        model,
        curveIdx,
        checkpointDir: checkpointDir(config.out),
        progress,
        signal,
      },
      options.resume,
    );
  } catch (e) {
    model.dispose();
    throw e;
  }
  try {
    const saved = "training is finished and saved in the checkpoint";
    stopIf(signal, `before evaluation; ${saved}`);
    progress.log("evaluating on the test set");
    const t0 = Date.now();
    const results = await evaluateAll(model, trained, data, testIdx, {
      samples: config.swagSamples,
      scale: config.swagScale,
      seed: config.seed,
      bn: hasBatchNorm(model) ? () => bnBatches(data, config, config.epochs) : null,
    });
    const evalSeconds = (Date.now() - t0) / 1000;
    // The evaluation runs mostly synchronously: let a signal that came during it be handled. A
    // signal is read in the event loop's poll phase; the first immediate may run before the next
    // poll, the second runs after it.
    for (let turn = 0; turn < 2; turn++) await new Promise((r) => setImmediate(r));
    stopIf(signal, `in evaluation; ${saved}`);
    const geometryDir = join(checkpointDir(config.out), "geometry");
    await analysisSettings(config, geometryDir, geometryFields);
    const geometry = await runGeometry(
      config,
      model,
      data,
      trained,
      geometryDir,
      progress,
      signal,
      options.geometryRemote,
    );
    stopIf(signal, `after geometry; ${saved} with the geometry results`);
    let trajectory: TrajectoryResult | null = null;
    if (config.trajectoryGrid > 0) {
      progress.log(
        "trajectory analysis: SGD from the pretrained point, cyclical and constant rates",
      );
      const trajectoryDir = join(checkpointDir(config.out), "trajectory");
      await analysisSettings(config, trajectoryDir, trajectoryFields);
      trajectory = await runTrajectory({
        config,
        data,
        model,
        schedules: trained.schedules,
        pretrained: trained.pretrainedState,
        testIdx,
        bn: hasBatchNorm(model) ? () => bnBatches(data, config, config.epochs) : null,
        resumeDir: trajectoryDir,
        progress,
        signal,
      });
    }
    stopIf(signal, `before the report; ${saved} with the analyses' results`);
    const s = trained.schedules;
    notes.push(
      "Width and rays: directions uniform on the unit sphere of the trainable weights (the same for both centers); rays are two-sided, so each gives two width samples.",
      "SGD: momentum with coupled weight decay (PyTorch torch.optim.SGD: d = g + wd*w; v = m*v + d; w -= lr*v), the rate set per step from the schedule.",
      "Data order of epoch e is a permutation seeded by (dataSeed, e); the last partial batch of each epoch is dropped.",
      `FGE cycle: ${s.fgeCycle} steps (fgeCycle epochs rounded to an even step count), a snapshot at each cycle's midpoint.`,
    );
    const report: Report = {
      tool: "wider",
      version: 1,
      createdAt: new Date().toISOString(),
      config,
      backend,
      dataset: {
        name: data.name,
        source: data.source,
        trainUsed: data.train.count,
        trainTotal: data.trainTotal,
        testUsed: testIdx.length,
        imageShape: [...data.imageShape],
      },
      model: {
        name: config.model,
        parameters: parameterCount(model),
        batchNorm: hasBatchNorm(model),
      },
      optimizer: `SGD, momentum ${config.momentum}, weight decay ${config.weightDecay} (coupled, as L2 in the gradient)`,
      stepsPerEpoch: s.stepsPerEpoch,
      swaCycleSteps: s.swaCycle,
      fgeCycleSteps: s.fgeCycle,
      swaAveraged: trained.state.swaAtBudget ?? trained.state.swaSteps.length,
      swaExtendedAveraged: trained.swaExtended === null ? null : trained.state.swaSteps.length,
      fgeSnapshots: trained.fge.length,
      history: trained.state.history,
      schedules: scheduleSamples(config, s),
      results,
      geometry,
      trajectory,
      seconds: {
        ...trained.state.seconds,
        evaluation: evalSeconds,
        geometry: geometry.seconds,
        ...(trajectory === null ? {} : { trajectory: trajectory.seconds }),
        thisProcess: (Date.now() - started) / 1000,
      },
      notes,
    };
    await writeReport(config.out, report);
    return report;
  } finally {
    disposeWeights(trained.pretrained);
    disposeTrainingState(trained.pretrainedState);
    disposeWeights(trained.sgd);
    disposeWeights(trained.swa);
    if (trained.swaExtended !== null) disposeWeights(trained.swaExtended);
    if (trained.swag !== null) disposeSwagState(trained.swag);
    for (const w of trained.fge) disposeWeights(w);
    model.dispose();
    tf.disposeVariables();
  }
};
