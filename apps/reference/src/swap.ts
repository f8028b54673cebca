/**
 * SWAP (Gupta et al. 2020, "Stochastic Weight Averaging in Parallel") on the reference app's
 * training pieces (`@wider/training`'s loop, the app's batches and schedules):
 *
 * - phase 1 is an ordinary run (`runExperiment`, one machine): its SGD state at `swaStart`
 *   (weights, BatchNorm statistics and momentum) is SWAP's start, and its own SGD and SWA at the
 *   budget are what SWAP is compared with, at equal epochs per model;
 * - phase 2 (one job per member, `trainSwapMember`, run by `wider worker`): continue from that
 *   state for epochs `swaStart .. epochs` with the member's own data order (seed
 *   `deriveSeed(dataSeed, 1_000_003 + m)`) and batch size `b`, the run's SGD rate at the same
 *   point of the epoch scaled by `lrScale` (default `b / batchSize`, the linear scaling rule);
 * - phase 3 (`evaluateSwap`): the members' final weights averaged with `@wider/averaging`
 *   (`averageSwap`), BatchNorm re-estimated on one pass of the run's training data, scored on the
 *   whole test split as the run scores SGD and SWA.
 *
 * Each model therefore sees `epochs` epochs of data: SGD all of them at batch size `batchSize`,
 * SWA and every SWAP member the first `swaStart` of them in common. Phase 3 is in
 * `swapEvaluate.ts`.
 *
 * @module
 */
import { join } from "node:path";
import { deriveSeed } from "@wider/data";
import {
  disposeOptState,
  disposeTrainingState,
  loadTrainingState,
  restore,
  runSteps,
  sgd,
  softmaxCrossEntropy,
} from "@wider/training";
import { disposeWeights, fromModel, saveWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError, Interrupted } from "./AppError.js";
import { chooseBackend } from "./backend.js";
import { stepBatches } from "./batches.js";
import { Config } from "./config.js";
import { withAddedFields } from "./configFields.js";
import { loadAppDataset, stepsPerEpoch } from "./dataset.js";
import { buildAppModel } from "./models.js";
import type { Progress } from "./progress.js";
import { makeSchedules } from "./schedules.js";

/** What a SWAP member job carries (decoded by the worker before anything runs). */
export const SwapTask = t.type({
  /** The phase-1 run's full configuration (its `out` is not used). */
  config: t.UnknownRecord,
  /** The saved phase-1 training state (weights and momentum), relative to the shared directory. */
  state: t.string,
  /** The member's data-order seed. */
  dataSeed: t.number,
  /** The member's (small) batch size. */
  batchSize: t.number,
  /** Factor on the run's SGD rate. */
  lrScale: t.number,
});
/** A SWAP member's task. */
export type SwapTask = t.TypeOf<typeof SwapTask>;

/** Phase-2 settings chosen on the command line. */
export interface SwapSettings {
  /** W, the number of members. */
  readonly members: number;
  /** Each member's batch size. */
  readonly batchSize: number;
  /** Factor on the run's SGD rate (default `batchSize / config.batchSize`). */
  readonly lrScale: number;
}

/** Member `m`'s data-order seed: distinct from the run's and from every other member's. */
export const memberDataSeed = (config: Config, member: number): number =>
  deriveSeed(config.dataSeed, 1_000_003 + member);

/** Member `m`'s task (the state path is relative to the shared directory). */
export const swapTask = (
  config: Config,
  settings: SwapSettings,
  state: string,
  member: number,
): SwapTask => ({
  config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
  state,
  dataSeed: memberDataSeed(config, member),
  batchSize: settings.batchSize,
  lrScale: settings.lrScale,
});

/** A member's output, stored with its result. */
export const SwapMemberOutput = t.type({
  member: t.number,
  steps: t.number,
  epochs: t.number,
  /** Mean training loss of the member's last epoch. */
  lastTrainLoss: t.number,
  seconds: t.number,
  backend: t.string,
});
/** A member's output. */
export type SwapMemberOutput = t.TypeOf<typeof SwapMemberOutput>;

/** Decodes a member's task or throws an {@link AppError} naming the field. */
export const decodeSwapTask = (task: unknown): { task: SwapTask; config: Config } => {
  const r = SwapTask.decode(task);
  if (E.isLeft(r))
    throw new AppError(
      "SWAP job: its task is not a wider SWAP task of this version; update the workers",
    );
  const c = Config.decode(withAddedFields(r.right.config));
  if (E.isLeft(c))
    throw new AppError(
      "SWAP job: its configuration is not a valid run configuration of this wider version",
    );
  const { batchSize, lrScale, dataSeed } = r.right;
  if (
    !Number.isSafeInteger(batchSize) ||
    batchSize < 1 ||
    !Number.isSafeInteger(dataSeed) ||
    dataSeed < 0 ||
    !(lrScale > 0) ||
    !Number.isFinite(lrScale)
  )
    throw new AppError(
      `SWAP job: batch size ${batchSize}, data seed ${dataSeed} or rate factor ${lrScale} is not valid`,
    );
  return { task: r.right, config: c.right };
};

/** What {@link trainSwapMember} needs besides the task. */
export interface MemberContext {
  readonly member: number;
  /** The member's directory; its final weights go to `<outDir>/final`. */
  readonly outDir: string;
  /** Resolves a path the job names inside the worker's directories (throws otherwise). */
  readonly confine: (path: string, what: string) => string;
  readonly progress: Progress;
  readonly signal: { readonly aborted: boolean };
}

/**
 * Phase 2, one member: loads the run's data and the saved phase-1 state, trains epochs
 * `swaStart .. epochs` with the member's data order, batch size and rate, and saves the final
 * weights (all of them, BatchNorm statistics included) to `<outDir>/final`.
 */
export const trainSwapMember = async (
  raw: unknown,
  ctx: MemberContext,
): Promise<SwapMemberOutput> => {
  const started = Date.now();
  const { task, config: runConfig } = decodeSwapTask(raw);
  const dataDir = runConfig.dataDir === null ? null : ctx.confine(runConfig.dataDir, "dataDir");
  const config: Config = { ...runConfig, dataDir };
  const backend = await chooseBackend(config.backend);
  // The run's data (its training subset is drawn with the run's dataSeed); only the order differs.
  const data = await loadAppDataset(config);
  const speRun = stepsPerEpoch(data.train.count, config.batchSize);
  const spe = stepsPerEpoch(data.train.count, task.batchSize);
  if (spe === 0 || speRun === 0)
    throw new AppError(
      `SWAP member ${ctx.member}: batch size ${task.batchSize} is larger than the ${data.train.count} training images`,
    );
  const runSgd = makeSchedules(config, speRun).sgd;
  const schedule = (step: number) => task.lrScale * runSgd(Math.floor((step * speRun) / spe));
  // Both were checked in decodeSwapTask (a non-negative and a positive integer): brand them.
  const member: Config = {
    ...config,
    dataSeed: task.dataSeed as Config["dataSeed"],
    batchSize: task.batchSize as Config["batchSize"],
  };
  const batches = stepBatches(member, data, spe);
  const model = buildAppModel(
    config.model,
    { imageShape: data.imageShape, classes: data.classes },
    config.seed,
  );
  try {
    const loaded = await loadTrainingState(ctx.confine(task.state, "SWAP start state"), t.unknown);
    if (E.isLeft(loaded))
      throw new AppError(
        `SWAP member ${ctx.member}: cannot load the phase-1 state: ${loaded.left.message}`,
        1,
      );
    const restored = restore(model, loaded.right.state);
    disposeTrainingState(loaded.right.state);
    if (E.isLeft(restored))
      throw new AppError(
        `SWAP member ${ctx.member}: the phase-1 state does not fit the model: ${restored.left.message}`,
        1,
      );
    const from = config.swaStart * spe;
    const to = config.epochs * spe;
    const ac = new AbortController();
    let lastLoss = Number.NaN;
    ctx.progress.phase(`swap ${ctx.member}`, to - from, 0);
    const r = await runSteps({
      model,
      optimizer: sgd({ momentum: config.momentum, weightDecay: config.weightDecay }),
      loss: softmaxCrossEntropy(),
      schedule,
      batches,
      state: { step: from, opt: restored.right.opt },
      to,
      stepsPerEpoch: spe,
      signal: ac.signal,
      hooks: [
        {
          onStep: ({ step, loss, lr }) => {
            if (!Number.isFinite(loss))
              throw new AppError(
                `SWAP member ${ctx.member}: the training loss is ${loss} at step ${step + 1}; lower --swap-lr-scale`,
                1,
              );
            ctx.progress.step(step + 1 - from, {
              epoch: Math.floor(step / spe),
              epochs: config.epochs,
              loss,
              lr,
            });
            if (ctx.signal.aborted) ac.abort();
          },
          readsModel: () => false,
          onEpoch: ({ meanLoss }) => {
            lastLoss = meanLoss;
          },
        },
      ],
    });
    disposeOptState(r.state.opt);
    ctx.progress.stop();
    if (r.aborted)
      throw new Interrupted(`in SWAP member ${ctx.member}; it starts over when retried`);
    const final = fromModel(model, { include: "all" });
    try {
      const saved = await saveWeights(join(ctx.outDir, "final"), final, {
        member: ctx.member,
      });
      if (E.isLeft(saved))
        throw new AppError(
          `SWAP member ${ctx.member}: cannot save its weights: ${saved.left.message}`,
          1,
        );
    } finally {
      disposeWeights(final);
    }
    return {
      member: ctx.member,
      steps: to - from,
      epochs: config.epochs - config.swaStart,
      lastTrainLoss: lastLoss,
      seconds: (Date.now() - started) / 1000,
      backend: backend.name,
    };
  } finally {
    model.dispose();
  }
};
