/**
 * The training tracks of the experiment, composed from `@wider/training` (one loop, one global
 * step counter, `branch`/`restore`, run checkpoints) and resumable at every epoch's end:
 *
 *   sgd  from the initial weights to the budget; its state at `swaStart` is the pretrained point
 *   swa  from the pretrained point (protocol `shared`) or the initial weights (`authors`) to
 *        `epochs + swaExtend`: the SWA average (and SWAG moments) at `swaCollect` steps, then
 *        BatchNorm re-estimation of the average at the budget (and at the end)
 *   fge  from the pretrained point to the budget: a snapshot at each triangular cycle's middle
 *
 * Every track trains on the same batch at the same global step. After each epoch the whole run
 * (live state, pretrained and initial points, collector states, results so far) goes into one
 * atomic checkpoint; `--resume` continues to the same result as an uninterrupted run. The
 * checkpoint bookkeeping is in `trainingState.ts`, a track's finish and the result in
 * `trainingFinish.ts`. With `--workers N` the steps run data-parallel on N worker threads
 * (`workers.ts`); the checkpoints hold the main thread's weights and optimizer state as before.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { swa as swaAverager } from "@wider/averaging";
import { type SwagState, swag } from "@wider/swag";
import {
  branch,
  collect,
  disposeOptState,
  type Hook,
  restore,
  sgd,
  softmaxCrossEntropy,
  type TrainingState,
} from "@wider/training";
import { clone, disposeWeights, type Weights, withWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError, Interrupted } from "./AppError.js";
import { stepBatches, testError } from "./batches.js";
import {
  type EpochRecord,
  saveCheckpoint,
  type Track,
  type TrainState,
  tracks,
} from "./checkpoint.js";
import type { AppDataset } from "./dataset.js";
import { hasBatchNorm } from "./models.js";
import type { Progress } from "./progress.js";
import { makeSchedules, type ScheduleSet } from "./schedules.js";
import { swagFromGroups, swagToGroups } from "./swagGroups.js";
import { finishTrack, takeTrained } from "./trainingFinish.js";
import {
  dropGroups,
  dropState,
  freeCheckpoint,
  openCheckpoint,
  setGroup,
  setState,
} from "./trainingState.js";
import { type Stepper, startStepper, workersNote } from "./workers.js";

export type { EpochRecord, Track, TrainState } from "./checkpoint.js";
export type { ScheduleSet } from "./schedules.js";

/** Everything the training tracks need. */
export interface TrainContext {
  readonly config: TrainState["config"];
  readonly data: AppDataset;
  readonly model: tfl.LayersModel;
  /** Test indices for the per-epoch curve. */
  readonly curveIdx: Int32Array;
  readonly checkpointDir: string;
  readonly progress: Progress;
  /** Set by the signal handlers; checked after every step. */
  readonly signal: { readonly aborted: boolean };
}

/** The trained solutions (all owned by the holder). */
export interface Trained {
  readonly state: TrainState;
  /** The SGD run's whole state at `swaStart` (weights and momentum): later analyses branch from it. */
  readonly pretrainedState: TrainingState;
  readonly pretrained: Weights;
  readonly sgd: Weights;
  /** The SWA average at the budget, BatchNorm re-estimated. */
  readonly swa: Weights;
  /** The SWA average at `epochs + swaExtend` (null without `swaExtend`). */
  readonly swaExtended: Weights | null;
  /** SWAG moments collected with the SWA average up to the budget (null with `swagRank` 0). */
  readonly swag: SwagState | null;
  readonly fge: readonly Weights[];
  readonly schedules: ScheduleSet;
}

/** Runs (or resumes) all tracks; the caller owns the result. Throws {@link Interrupted} on a signal. */
export const train = async (ctx: TrainContext, resume: boolean): Promise<Trained> => {
  const { config, data, model, progress } = ctx;
  const spe = Math.floor(data.train.count / config.batchSize);
  if (spe === 0)
    throw new AppError(
      `batchSize: ${config.batchSize} is larger than the ${data.train.count} training images; lower --batch-size or raise --train-subset`,
    );
  const schedules = makeSchedules(config, spe);
  const optimizer = sgd({ momentum: config.momentum, weightDecay: config.weightDecay });
  const batches = stepBatches(config, data, spe);
  const ck = await openCheckpoint(ctx, resume, optimizer);

  const range: Record<Track, [number, number]> = {
    sgd: [0, schedules.budgetStep],
    swa: [schedules.swaFrom, schedules.swaEnd],
    fge: [schedules.swaStartStep, schedules.budgetStep],
  };
  const startOf: Record<Track, string> = {
    sgd: "init",
    swa: config.protocol === "authors" ? "init" : "pretrained",
    fge: "pretrained",
  };

  const runTrack = async (stepper: Stepper, track: Track): Promise<void> => {
    const [from, to] = range[track];
    const live = ck.states.live;
    const start = live !== undefined && live.step > from ? live : ck.states[startOf[track]];
    if (start === undefined) throw new Error(`internal: no ${startOf[track]} state for ${track}`);
    const restored = restore(model, start);
    if (E.isLeft(restored)) throw new Error(`internal: ${restored.left.message}`);
    const schedule = schedules[track];
    progress.phase(track, to - from, start.step - from);

    // Collectors, continued from the checkpoint's groups.
    const averager = swaAverager();
    const swaHook = collect({
      state:
        track === "swa" && ck.groups.swaMean !== undefined
          ? { n: ck.state.swaSteps.length, mean: clone(ck.groups.swaMean) }
          : averager.init(),
      update: (s, w) => averager.update(s, w),
      policy: (step) => track === "swa" && schedules.swaCollect(step),
    });
    const swagCollector = config.swagRank > 0 ? swag({ maxRank: config.swagRank }) : null;
    const swagHook = collect<SwagState | null>({
      state:
        track === "swa" && swagCollector
          ? swagFromGroups(ck.groups, ck.state.swagSteps.length, config.swagRank)
          : null,
      update: (s, w) => (s === null || swagCollector === null ? s : swagCollector.update(s, w)),
      policy: (step) =>
        track === "swa" &&
        swagCollector !== null &&
        schedules.swaCollect(step) &&
        step < schedules.budgetStep,
      include: "trainable",
    });
    const fgeHook = collect<Weights[]>({
      state: [],
      update: (list, w) => [...list, clone(w)],
      policy: (step) => track === "fge" && schedules.fgeCollect(step),
    });
    const steps = { swa: [] as number[], swag: [] as number[], fge: [] as number[] };
    let lrFirst = Number.NaN;
    let t0 = Date.now();
    const ac = new AbortController();

    const hooks: Hook[] = [
      swaHook,
      swagHook,
      fgeHook,
      {
        onStep: ({ step, lr, loss }) => {
          if (!Number.isFinite(loss))
            throw new AppError(
              `${track}: the training loss is ${loss} at step ${step + 1}; lower --lr or the schedule's rates`,
              1,
            );
          if (track === "swa" && schedules.swaCollect(step)) steps.swa.push(step);
          if (
            track === "swa" &&
            swagCollector &&
            schedules.swaCollect(step) &&
            step < schedules.budgetStep
          )
            steps.swag.push(step);
          if (track === "fge" && schedules.fgeCollect(step)) steps.fge.push(step);
          if (step % spe === 0) lrFirst = lr;
          progress.step(step + 1 - from, {
            epoch: Math.floor(step / spe),
            epochs: config.epochs,
            loss,
            lr,
          });
          if (ctx.signal.aborted) ac.abort();
        },
        // onStep reads the step, rate and loss only (onEpoch reads the model at epoch ends):
        // data-parallel workers copy the model back after the steps the collectors take.
        readsModel: () => false,
        onEpoch: async ({ epoch, step, meanLoss, state }) => {
          const err = await testError(model, data, ctx.curveIdx);
          const mean = swaHook.state.mean;
          let swaErr: number | undefined;
          if (track === "swa" && mean !== null && !hasBatchNorm(model)) {
            const r = await withWeights(model, mean, () => testError(model, data, ctx.curveIdx));
            if (E.isLeft(r)) throw new Error(`internal: ${r.left.message}`);
            swaErr = r.right;
          }
          const seconds = (Date.now() - t0) / 1000;
          t0 = Date.now();
          const record: EpochRecord = {
            phase: track,
            epoch,
            trainLoss: meanLoss,
            testError: err,
            ...(swaErr === undefined ? {} : { swaTestError: swaErr }),
            lrFirst,
            lrLast: schedule(step),
            seconds,
          };
          const last = step + 1 === to;
          if (track === "sgd" && step + 1 === schedules.swaStartStep)
            setState(ck.states, "pretrained", branch(model, state));
          if (track === "swa") {
            if (mean !== null) setGroup(ck.groups, "swaMean", clone(mean));
            if (step + 1 === schedules.budgetStep && mean !== null) {
              setGroup(ck.groups, "swaBudgetMean", clone(mean));
              ck.state = { ...ck.state, swaAtBudget: swaHook.state.n };
            }
            if (swagHook.state !== null) swagToGroups(ck.groups, swagHook.state);
          }
          const base = ck.state.fgeSteps.length;
          for (const [i, w] of fgeHook.state.splice(0).entries())
            setGroup(ck.groups, `fge${base + i}`, w);
          ck.state = {
            ...ck.state,
            track: last ? (tracks[tracks.indexOf(track) + 1] ?? "done") : track,
            history: [...ck.state.history, record],
            swaSteps: [...ck.state.swaSteps, ...steps.swa.splice(0)],
            swagSteps: [...ck.state.swagSteps, ...steps.swag.splice(0)],
            fgeSteps: [...ck.state.fgeSteps, ...steps.fge.splice(0)],
            seconds: { ...ck.state.seconds, [track]: (ck.state.seconds[track] ?? 0) + seconds },
          };
          if (last) {
            await finishTrack(ctx, ck, track);
            dropState(ck.states, "live");
            // What no later track starts from or reports is dropped, to keep checkpoints small.
            if (track === "swa" || (track === "sgd" && config.protocol !== "authors"))
              dropState(ck.states, "init");
            if (track === "swa") dropGroups(ck.groups, ["swaMean", "swaBudgetMean"]);
          } else setState(ck.states, "live", branch(model, state));
          await saveCheckpoint(ctx.checkpointDir, ck);
          progress.epochEnd({
            epoch,
            epochs: config.epochs,
            loss: meanLoss,
            lr: record.lrLast,
            seconds,
            extra: `test error ${(err * 100).toFixed(2)}%${swaErr === undefined ? "" : ` (SWA ${(swaErr * 100).toFixed(2)}%)`}`,
          });
        },
      },
    ];
    try {
      const r = await stepper.runSteps({
        model,
        optimizer,
        loss: softmaxCrossEntropy(),
        schedule,
        batches,
        state: restored.right,
        to,
        hooks,
        stepsPerEpoch: spe,
        signal: ac.signal,
      });
      disposeOptState(r.state.opt);
      if (r.aborted)
        throw new Interrupted(
          `in ${track} at epoch ${Math.floor(r.state.step / spe) + 1} step ${(r.state.step % spe) + 1}; the last checkpoint (${ck.state.track}, after epoch ${(ck.state.history.at(-1)?.epoch ?? -1) + 1}) is intact`,
        );
    } finally {
      if (swaHook.state.mean !== null) disposeWeights(swaHook.state.mean);
      if (swagHook.state !== null) {
        for (const w of [swagHook.state.mean, swagHook.state.sqMean]) if (w) disposeWeights(w);
        for (const d of swagHook.state.deviations) disposeWeights(d);
      }
      for (const w of fgeHook.state) disposeWeights(w);
      progress.stop();
    }
  };

  let stepper: Stepper | undefined;
  try {
    for (const track of tracks) {
      if (ck.state.track === "done" || tracks.indexOf(ck.state.track) > tracks.indexOf(track))
        continue;
      if (stepper === undefined) {
        stepper = await startStepper(config, data);
        const note = workersNote(stepper.workers);
        if (note !== null) progress.log(note);
      }
      await runTrack(stepper, track);
    }
  } catch (e) {
    freeCheckpoint(ck);
    throw e;
  } finally {
    await stepper?.close();
  }
  return takeTrained(ck, config, schedules);
};
