/**
 * The paper's section 3.1, run after training: SGD from the SAME pretrained point (weights and
 * momentum at `swaStart`) over the SWA phase's steps (`swaStart` to `epochs`, the same batches),
 * once under the cyclical rate (the paper's sawtooth from the SGD rate at `swaStart` down to
 * `swaLr`, one cycle per `swaEvery` epochs) and once under the constant rate `swaLr`. A proposal
 * is collected at every averaging step (each cycle's end, every `swaEvery` epochs). For each rate:
 * the test error of every proposal and of the running SWA average after each collection (the
 * paper's Figure 3; BatchNorm re-estimated for each when the model has it) and the spread of the
 * proposals in weight space. The plane through three cyclical proposals is in
 * `trajectoryPlane.ts`, the findings in `trajectoryFindings.ts`.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { swa as swaAverager, updateBatchNorm } from "@wider/averaging";
import { constant, cyclical, join, type Schedule } from "@wider/schedules";
import {
  collect,
  disposeOptState,
  restore,
  runSteps,
  sgd,
  softmaxCrossEntropy,
  type TrainingState,
} from "@wider/training";
import { clone, disposeWeights, type Weights, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError, Interrupted } from "./AppError.js";
import { stepBatches, testError } from "./batches.js";
import type { Config } from "./config.js";
import type { AppDataset } from "./dataset.js";
import type { Progress } from "./progress.js";
import type { ScheduleSet } from "./schedules.js";
import type { Stepper } from "./workers.js";

/** The two rates of section 3.1. */
export type Rate = "cyclical" | "constant";

/** One rate's run over the SWA phase: the numbers behind its curves (the paper's Figure 3). */
export interface RateRun {
  readonly rate: Rate;
  /** The rate at a cycle's start and end (equal for the constant rate). */
  readonly lrHigh: number;
  readonly lrLow: number;
  /** Global step after which each proposal was collected. */
  readonly steps: readonly number[];
  /** Epochs finished at each collection. */
  readonly epochs: readonly number[];
  /** Test error of each proposal. */
  readonly proposalErrors: readonly number[];
  /** Test error of the running SWA average after each collection (`swaErrors[k]`: first k + 1). */
  readonly swaErrors: readonly number[];
  /** Mean Euclidean distance of the proposals from their mean (trainable weights; 0 for one). */
  readonly spread: number;
  readonly seconds: number;
}

/** The rate schedule of `rate` in global steps (both start at the pretrained point). */
export const rateSchedule = (config: Config, s: ScheduleSet, rate: Rate): Schedule => {
  if (rate === "constant") return constant(config.swaLr);
  const high = Math.max(s.sgd(s.swaStartStep), config.swaLr);
  const phase =
    high === config.swaLr
      ? constant(config.swaLr)
      : cyclical({ high, low: config.swaLr, cycle: s.swaCycle });
  // `join` re-bases the sawtooth at the pretrained point: its step 0 is global step swaStartStep.
  return join([s.sgd, phase], [s.swaStartStep]);
};

/** Whether a proposal is collected after global step `step` (each cycle's end from `swaStart`). */
export const proposalStep =
  (s: ScheduleSet) =>
  (step: number): boolean =>
    step >= s.swaStartStep && (step + 1 - s.swaStartStep) % s.swaCycle === 0;

/** What a rate's run needs. */
export interface SweepContext {
  readonly config: Config;
  readonly data: AppDataset;
  readonly model: tfl.LayersModel;
  readonly schedules: ScheduleSet;
  readonly pretrained: TrainingState;
  readonly progress: Progress;
  readonly signal: { readonly aborted: boolean };
  /** The training loop (`--workers`: on worker threads); `@wider/training`'s `runSteps` if absent. */
  readonly runSteps?: Stepper["runSteps"];
}

/**
 * Runs SGD from the pretrained point to the budget under `rate` and returns its proposals (all
 * weights, BatchNorm statistics included; the caller owns them) and their global steps.
 */
export const sweepRate = async (
  ctx: SweepContext,
  rate: Rate,
): Promise<{ proposals: Weights[]; steps: number[] }> => {
  const { config, model, schedules: s } = ctx;
  const restored = restore(model, ctx.pretrained);
  if (E.isLeft(restored)) throw new Error(`internal: ${restored.left.message}`);
  const take = proposalStep(s);
  const steps: number[] = [];
  const hook = collect<Weights[]>({
    state: [],
    update: (list, w, step) => {
      steps.push(step);
      return [...list, clone(w)];
    },
    policy: take,
  });
  const from = s.swaStartStep;
  const to = s.budgetStep;
  ctx.progress.phase(`trajectory ${rate}`, to - from, 0);
  const ac = new AbortController();
  try {
    const r = await (ctx.runSteps ?? runSteps)({
      model,
      optimizer: sgd({ momentum: config.momentum, weightDecay: config.weightDecay }),
      loss: softmaxCrossEntropy(),
      schedule: rateSchedule(config, s, rate),
      batches: stepBatches(config, ctx.data, s.stepsPerEpoch),
      state: restored.right,
      to,
      stepsPerEpoch: s.stepsPerEpoch,
      signal: ac.signal,
      hooks: [
        hook,
        {
          onStep: ({ step, lr, loss }) => {
            if (!Number.isFinite(loss))
              throw new AppError(
                `trajectory (${rate} rate): the training loss is ${loss} at step ${step + 1}; lower --swa-lr or turn the analysis off with --trajectory-grid 0`,
                1,
              );
            ctx.progress.step(step + 1 - from, {
              epoch: Math.floor(step / s.stepsPerEpoch),
              epochs: config.epochs,
              loss,
              lr,
            });
            if (ctx.signal.aborted) ac.abort();
          },
          readsModel: () => false,
        },
      ],
    });
    disposeOptState(r.state.opt);
    if (r.aborted) throw new Interrupted(`in the trajectory analysis (${rate} rate)`);
    return { proposals: hook.state.splice(0), steps };
  } finally {
    for (const w of hook.state) disposeWeights(w);
    ctx.progress.stop();
  }
};

/**
 * Visits the running SWA average of `proposals` after each collection (`@wider/averaging`'s
 * `swa`: `mean + (w - mean) / (n + 1)`): `visit(k, mean)` sees the mean of the first `k + 1`,
 * valid only during the call. Returns the mean of all of them (the caller owns it).
 *
 * @example
 * const mean = await runningAverages(ws, async (k, m) => errors.push(await score(m)));
 */
export const runningAverages = async (
  proposals: readonly Weights[],
  visit: (k: number, mean: Weights) => Promise<void>,
): Promise<Weights> => {
  if (proposals.length === 0) throw new Error("internal: no proposal to average");
  const averager = swaAverager();
  let state = averager.init();
  try {
    for (const [k, w] of proposals.entries()) {
      state = averager.update(state, w);
      await visit(k, state.mean as Weights);
    }
    const mean = state.mean as Weights;
    state = averager.init();
    return mean;
  } finally {
    if (state.mean !== null) disposeWeights(state.mean);
  }
};

/**
 * Mean Euclidean distance of weight sets from their mean over `keys`, in float64 (0 for one set).
 *
 * @example
 * spread([a, b], keys) // |a - b| / 2
 */
export const spread = (ws: readonly Weights[], keys: readonly string[]): number => {
  if (ws.length === 0) return Number.NaN;
  const sq = new Float64Array(ws.length);
  for (const k of keys) {
    const arrays = ws.map((w) => {
      const t = w[k];
      if (t === undefined) throw new Error(`internal: a proposal lacks ${k}`);
      return t.dataSync();
    });
    const n = arrays[0]?.length ?? 0;
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (const a of arrays) m += a[i] as number;
      m /= arrays.length;
      for (const [j, a] of arrays.entries()) {
        const d = (a[i] as number) - m;
        sq[j] = (sq[j] as number) + d * d;
      }
    }
  }
  let total = 0;
  for (const x of sq) total += Math.sqrt(x);
  return total / ws.length;
};

/** Test error of `w` on `testIdx`, BatchNorm re-estimated on `bn()` first when given. */
export const errorOf = async (
  model: tfl.LayersModel,
  w: Weights,
  data: AppDataset,
  testIdx: Int32Array,
  bn: (() => Iterable<tf.Tensor>) | null,
): Promise<number> => {
  const r = await withWeights(model, w, async () => {
    if (bn !== null) await updateBatchNorm(model, bn(), { disposeBatches: true });
    return testError(model, data, testIdx);
  });
  if (E.isLeft(r)) throw new Error(`internal: ${r.left.message}`);
  return r.right;
};

/**
 * One rate's analysis: its proposals (the caller owns them), their final average (owned too)
 * and the numbers behind its curves.
 */
export const analyseRate = async (
  ctx: SweepContext,
  rate: Rate,
  testIdx: Int32Array,
  bn: (() => Iterable<tf.Tensor>) | null,
): Promise<{ run: RateRun; proposals: Weights[]; average: Weights }> => {
  const t0 = Date.now();
  const { proposals, steps } = await sweepRate(ctx, rate);
  try {
    if (proposals.length === 0)
      throw new AppError(
        "trajectory: no proposal was collected; the SWA phase must contain at least one averaging step (lower --swa-every)",
      );
    const proposalErrors: number[] = [];
    for (const w of proposals) {
      if (ctx.signal.aborted) throw new Interrupted("in the trajectory analysis");
      proposalErrors.push(await errorOf(ctx.model, w, ctx.data, testIdx, bn));
    }
    const swaErrors: number[] = [];
    const average = await runningAverages(proposals, async (_k, mean) => {
      swaErrors.push(await errorOf(ctx.model, mean, ctx.data, testIdx, bn));
    });
    const keys = ctx.model.trainableWeights.map((v) => v.originalName);
    const s = ctx.schedules;
    return {
      run: {
        rate,
        lrHigh:
          rate === "constant"
            ? ctx.config.swaLr
            : Math.max(s.sgd(s.swaStartStep), ctx.config.swaLr),
        lrLow: ctx.config.swaLr,
        steps,
        epochs: steps.map((step) => (step + 1) / s.stepsPerEpoch),
        proposalErrors,
        swaErrors,
        spread: spread(proposals, keys),
        seconds: (Date.now() - t0) / 1000,
      },
      proposals,
      average,
    };
  } catch (e) {
    for (const w of proposals) disposeWeights(w);
    throw e;
  }
};
