/**
 * One run of the experiment, end to end: output directory policy, backend, data, model,
 * training (resumable), evaluation, geometry, report.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { disposeSwagState } from "@wider/swag";
import { disposeWeights } from "@wider/weights";
import { AppError } from "./AppError.js";
import { type BackendInfo, chooseBackend } from "./backend.js";
import { bnBatches } from "./batches.js";
import type { Config } from "./config.js";
import { loadAppDataset, ranges } from "./dataset.js";
import { evaluateAll } from "./evaluate.js";
import { runGeometry } from "./geometry.js";
import { buildAppModel, hasBatchNorm, parameterCount } from "./models.js";
import type { Progress } from "./progress.js";
import { type Report, scheduleSamples, writeReport } from "./report.js";
import { train } from "./training.js";

/** The files a run writes into its output directory (`--force` removes exactly these). */
export const outputEntries = ["checkpoint", "report.json", "report.html"] as const;

/** Where a run keeps its checkpoint. */
export const checkpointDir = (out: string): string => join(out, "checkpoint");

/**
 * Prepares the output directory: a new or empty one is used; a non-empty one is refused unless
 * `force` (the run's own files are removed first) or `resume` (its checkpoint must exist).
 */
export const prepareOutDir = async (
  out: string,
  mode: { readonly force: boolean; readonly resume: boolean },
  dryRun = false,
): Promise<void> => {
  if (mode.resume) {
    if (!existsSync(join(checkpointDir(out), "manifest.json")))
      throw new AppError(
        `--resume: ${out} holds no checkpoint (${checkpointDir(out)}/manifest.json); start a new run without --resume`,
      );
    return;
  }
  if (existsSync(out)) {
    const entries = await readdir(out).catch(() => {
      throw new AppError(`--out: ${out} exists and is not a readable directory`);
    });
    if (entries.length > 0) {
      if (!mode.force)
        throw new AppError(
          `--out: ${out} already exists and is not empty; pass --force to overwrite the run in it, --resume to continue it, or choose another --out`,
        );
      if (dryRun) return;
      for (const e of outputEntries) await rm(join(out, e), { recursive: true, force: true });
    }
  }
  if (!dryRun) await mkdir(out, { recursive: true });
};

/** What a run needs besides its config. */
export interface RunOptions {
  readonly resume: boolean;
  readonly force: boolean;
  readonly progress: Progress;
  readonly signal: { aborted: boolean };
}

/** Runs the experiment; returns the report (also written to `config.out`). */
export const runExperiment = async (config: Config, options: RunOptions): Promise<Report> => {
  const { progress } = options;
  const started = Date.now();
  // Checks first (output directory, data), then effects (backend, directory).
  await prepareOutDir(config.out, options, true);
  const data = await loadAppDataset(config);
  const backend: BackendInfo = await chooseBackend(config.backend);
  progress.log(`backend: ${backend.name} (${backend.reason})`);
  await prepareOutDir(config.out, options);
  const testIdx = ranges(data.test.count, data.test.count)[0] ?? new Int32Array(0);
  const curveIdx = testIdx.subarray(0, Math.min(2000, testIdx.length));
  const model = buildAppModel(
    config.model,
    { imageShape: data.imageShape, classes: data.classes },
    config.seed,
  );
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
        signal: options.signal,
      },
      options.resume,
    );
  } catch (e) {
    model.dispose();
    throw e;
  }
  try {
    progress.log("evaluating on the test set");
    const t0 = Date.now();
    const results = await evaluateAll(model, trained, data, testIdx, {
      samples: config.swagSamples,
      scale: config.swagScale,
      seed: config.seed,
      bn: hasBatchNorm(model) ? () => bnBatches(data, config, config.epochs) : null,
    });
    const evalSeconds = (Date.now() - t0) / 1000;
    const geometry = await runGeometry(
      config,
      model,
      data,
      trained,
      join(checkpointDir(config.out), "geometry"),
      progress,
      options.signal,
    );
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
      seconds: {
        ...trained.state.seconds,
        evaluation: evalSeconds,
        geometry: geometry.seconds,
        thisProcess: (Date.now() - started) / 1000,
      },
      notes,
    };
    await writeReport(config.out, report);
    return report;
  } finally {
    disposeWeights(trained.pretrained);
    disposeWeights(trained.sgd);
    disposeWeights(trained.swa);
    if (trained.swaExtended !== null) disposeWeights(trained.swaExtended);
    if (trained.swag !== null) disposeSwagState(trained.swag);
    for (const w of trained.fge) disposeWeights(w);
    model.dispose();
    tf.disposeVariables();
  }
};
