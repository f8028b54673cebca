/**
 * The training phases of the experiment, resumable at epoch boundaries:
 *
 *   pretrain (SGD, epochs [0, swaStart))  ->  from the pretrained point:
 *     sgd  (the same SGD schedule continued to the budget, epochs [swaStart, epochs))
 *     swa  (SWA schedule, averaging at cycle ends, then BatchNorm re-estimation)
 *     fge  (triangular schedule, a snapshot at each cycle's midpoint)
 *
 * Every phase runs the same hand-written loop (`sgdStep` per batch, the rate from a `Schedule`
 * per step). The data order of epoch `e` is a permutation seeded by `(dataSeed, e)`, so it needs
 * no RNG state and the three branches see the same batches. After each epoch the whole state
 * (weights, momentum buffers, averager, snapshots, history) goes into one checkpoint, written
 * atomically by `@wider/weights` `saveBundle`; `--resume` reloads it and continues to the same
 * result as an uninterrupted run.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  type AveragerState,
  atCycleEnds,
  swa as swaAverager,
  updateBatchNorm,
} from "@wider/averaging";
import { deriveSeed } from "@wider/data";
import { collectAt, disposeSnapshots, type SnapshotState } from "@wider/ensembling";
import {
  cyclical,
  fromSpec,
  isCycleMidpoint,
  type Schedule,
  swaReference,
  triangular,
} from "@wider/schedules";
import {
  assignToModel,
  clone,
  disposeWeights,
  fromModel,
  saveBundle,
  type Weights,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError, Interrupted } from "./AppError.js";
import { loadCheckpoint } from "./checkpointCodec.js";
import { type Config, trainingDifferences } from "./config.js";
import { type AppDataset, epochPlan, evalBatch, stepsPerEpoch, trainBatch } from "./dataset.js";
import type { Progress } from "./progress.js";
import { disposeVelocity, sgdStep, type Velocity, zeroVelocity } from "./sgd.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** The training phases, in the order they run. */
export const phases = ["pretrain", "sgd", "swa", "fge"] as const;
/** A training phase. */
export type Phase = (typeof phases)[number];

/** One epoch of one phase, as recorded in the report. */
export interface EpochRecord {
  readonly phase: Phase;
  /** Global epoch index (0-based). */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (training mode, before each step). */
  readonly trainLoss: number;
  /** Test error of the iterate at the epoch's end, on the curve subset. */
  readonly testError: number;
  /** Test error of the running SWA average (phase `swa` only, models without BatchNorm). */
  readonly swaTestError?: number;
  /** Rate of the epoch's first and last step. */
  readonly lrFirst: number;
  readonly lrLast: number;
  readonly seconds: number;
}

/** The JSON half of a checkpoint (the tensors are the bundle's groups). */
export interface TrainState {
  readonly version: 1;
  /** The config the run was started with (resume refuses a different one). */
  readonly config: Config;
  /** The phase to run next (`done` when all four are finished). */
  readonly phase: Phase | "done";
  /** Next global epoch to run within `phase`. */
  readonly epoch: number;
  readonly history: readonly EpochRecord[];
  /** Models averaged so far in the SWA phase. */
  readonly swaCount: number;
  /** Steps (within the phase) at which FGE snapshots were taken. */
  readonly fgeSteps: readonly number[];
  /** Steps (within the phase) at which the SWA average was updated. */
  readonly swaSteps: readonly number[];
  /** Seconds spent in each phase so far. */
  readonly seconds: Readonly<Record<string, number>>;
}

/** The tensors of a run (all owned by the holder of the `Trained` value). */
export interface Trained {
  readonly state: TrainState;
  readonly pretrained: Weights;
  readonly sgd: Weights;
  readonly swa: Weights;
  readonly fge: readonly Weights[];
  readonly schedules: ScheduleSet;
}

/** The three schedules of a run, with the numbers the report plots. */
export interface ScheduleSet {
  /** SGD: pretraining and the baseline, over global steps `[0, epochs * spe)`. */
  readonly sgd: Schedule;
  /** SWA phase, steps from the phase start. */
  readonly swa: Schedule;
  /** FGE phase, steps from the phase start. */
  readonly fge: Schedule;
  readonly stepsPerEpoch: number;
  /** SWA averages at the end of each cycle of this many steps. */
  readonly swaCycle: number;
  /** FGE cycle length in steps (even; a snapshot at step `cycle/2` of each). */
  readonly fgeCycle: number;
}

// -------------------------------------------------------------------------------------------------
// schedules
// -------------------------------------------------------------------------------------------------

const specSchedule = (spec: Record<string, unknown>, field: string): Schedule => {
  const s = fromSpec(spec);
  if (E.isLeft(s)) throw new AppError(`${field}: ${s.left.message}`);
  return s.right;
};

/**
 * The run's schedules. Defaults: SGD is the authors' reference schedule over the budget
 * (`swaReference`, flat for half, linear to 1% by 90%); SWA is the paper's cyclical sawtooth from
 * the SGD rate at `swaStart` down to `swaLr`, one cycle per `swaEvery` epochs; FGE is triangular
 * between `fgeLrMax` and `fgeLrMin` with cycles of `fgeCycle` epochs rounded to an even number of
 * steps.
 */
export const makeSchedules = (config: Config, spe: number): ScheduleSet => {
  const sgd =
    config.pretrainSchedule === null
      ? swaReference({ lrInit: config.lr, epochs: config.epochs, stepsPerEpoch: spe })
      : specSchedule(config.pretrainSchedule, "pretrainSchedule");
  const swaCycle = config.swaEvery * spe;
  const high = sgd(config.swaStart * spe);
  const swa =
    config.swaSchedule === null
      ? cyclical({ high: Math.max(high, config.swaLr), low: config.swaLr, cycle: swaCycle })
      : specSchedule(config.swaSchedule, "swaSchedule");
  const fgeCycle = Math.max(2, 2 * Math.floor((config.fgeCycle * spe) / 2));
  const fge = triangular({ high: config.fgeLrMax, low: config.fgeLrMin, cycle: fgeCycle });
  return { sgd, swa, fge, stepsPerEpoch: spe, swaCycle, fgeCycle };
};

// -------------------------------------------------------------------------------------------------
// checkpoint
// -------------------------------------------------------------------------------------------------

type Groups = Record<string, Weights>;

const saveCheckpoint = async (dir: string, state: TrainState, groups: Groups): Promise<void> => {
  const r = await saveBundle(dir, {
    groups,
    metadata: JSON.parse(JSON.stringify(state)),
  });
  if (E.isLeft(r)) throw new AppError(`checkpoint ${dir}: ${r.left.message}`, 1);
};

// appsafe: the checkpoint is decoded with io-ts codecs in checkpointCodec.ts (no cast).
export { loadCheckpoint } from "./checkpointCodec.js";

// -------------------------------------------------------------------------------------------------
// evaluation helpers
// -------------------------------------------------------------------------------------------------

/** Test error of the model in inference mode on `indices` of the test split. */
export const testError = async (
  model: tfl.LayersModel,
  data: AppDataset,
  indices: Int32Array,
  batch = 500,
): Promise<number> => {
  let wrong = 0;
  for (let i = 0; i < indices.length; i += batch) {
    const idx = indices.subarray(i, Math.min(i + batch, indices.length));
    const { x, y } = evalBatch(data, data.test, idx);
    const w = tf.tidy(() =>
      tf.sum(tf.notEqual(tf.argMax(model.apply(x, { training: false }) as tf.Tensor, 1), y)),
    );
    wrong += (await w.data())[0] as number;
    tf.dispose([x, y, w]);
  }
  return wrong / indices.length;
};

/** Train batches (as image tensors) for BatchNorm re-estimation: one pass in the order of `epoch`. */
export function* bnBatches(data: AppDataset, config: Config, epoch: number): Generator<tf.Tensor> {
  const plan = epochPlan(config, data.train.count, epoch);
  for (const [i, b] of plan.entries()) {
    const { x, y } = trainBatch(data, b, augmentSeed(config, epoch, i));
    y.dispose();
    yield x;
  }
}

/** Seed of the augmentation draws of batch `i` of epoch `epoch` (32x32 images only). */
const augmentSeed = (config: Config, epoch: number, i: number): number =>
  deriveSeed(deriveSeed(config.dataSeed + 1, epoch), i);

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

// -------------------------------------------------------------------------------------------------
// the loop
// -------------------------------------------------------------------------------------------------

/** Everything the training phases need. */
export interface TrainContext {
  readonly config: Config;
  readonly data: AppDataset;
  readonly model: tfl.LayersModel;
  /** Test indices for the per-epoch curve. */
  readonly curveIdx: Int32Array;
  readonly checkpointDir: string;
  readonly progress: Progress;
  /** Set by the SIGINT handler; checked after every step. */
  readonly signal: { aborted: boolean };
}

const phaseRange = (config: Config, phase: Phase): [number, number] =>
  phase === "pretrain" ? [0, config.swaStart] : [config.swaStart, config.epochs];

/**
 * Runs (or resumes) all training phases and returns the trained weights; the caller owns them.
 * Throws {@link Interrupted} when `signal.aborted` is set, after the current step, leaving the
 * last epoch's checkpoint as it was.
 */
export const train = async (ctx: TrainContext, resume: boolean): Promise<Trained> => {
  const { config, data, model, progress } = ctx;
  const spe = stepsPerEpoch(data.train.count, config.batchSize);
  if (spe === 0)
    throw new AppError(
      `batchSize: ${config.batchSize} is larger than the ${data.train.count} training images; lower --batch-size or raise --train-subset`,
    );
  const schedules = makeSchedules(config, spe);

  // ---- state ---------------------------------------------------------------------------------
  let state: TrainState;
  const groups: Groups = {};
  if (resume) {
    const loaded = await loadCheckpoint(ctx.checkpointDir);
    // appsafe: the analysis-only fields (out, geometry sizes) may change on resume.
    const same = trainingDifferences(loaded.state.config, config).length === 0;
    if (!same) {
      for (const g of Object.values(loaded.groups)) disposeWeights(g);
      throw new AppError(
        `--resume: the run in ${config.out} was started with a different configuration; resume it without changing flags or config`,
      );
    }
    state = loaded.state;
    Object.assign(groups, loaded.groups);
    progress.log(
      state.phase === "done"
        ? "resuming from the checkpoint: training finished; evaluating"
        : `resuming from the checkpoint: ${state.phase} at epoch ${state.epoch + 1}`,
    );
  } else {
    state = {
      version: 1,
      config,
      phase: "pretrain",
      epoch: 0,
      history: [],
      swaCount: 0,
      fgeSteps: [],
      swaSteps: [],
      seconds: {},
    };
  }
  const setGroup = (name: string, w: Weights) => {
    const old = groups[name];
    groups[name] = w;
    if (old !== undefined) disposeWeights(old);
  };
  const assign = (w: Weights) => {
    const r = assignToModel(model, w);
    if (E.isLeft(r)) throw new Error(`internal: ${r.left.message}`);
  };

  let velocity: Velocity = zeroVelocity(model);
  const restoreVelocity = (w: Weights | undefined) => {
    if (w === undefined) return;
    disposeVelocity(velocity);
    velocity = clone(w);
  };
  const averager = swaAverager();
  let swa: AveragerState = averager.init();
  if (groups.swaMean !== undefined) swa = { n: state.swaCount, mean: clone(groups.swaMean) };

  try {
    // The model and momentum of a run in progress.
    if (groups.model !== undefined) assign(groups.model);
    restoreVelocity(groups.velocity);

    for (const phase of phases) {
      const order = phases.indexOf(phase);
      if (state.phase === "done" || phases.indexOf(state.phase) > order) continue;
      const [first, end] = phaseRange(config, phase);
      if (state.epoch === first && phase !== "pretrain") {
        // A branch starts from the pretrained point, with its momentum.
        const start = groups.pretrained;
        if (start === undefined) throw new Error("internal: no pretrained point in the state");
        assign(start);
        restoreVelocity(groups.pretrainedVelocity);
      }
      const total = (end - first) * spe;
      progress.phase(phase, total, (state.epoch - first) * spe);
      const schedule =
        phase === "swa" ? schedules.swa : phase === "fge" ? schedules.fge : schedules.sgd;
      const swaNow = atCycleEnds(schedules.swaCycle);
      const fgeCollector = collectAt(isCycleMidpoint(schedules.fgeCycle), {
        maxCount: Number.MAX_SAFE_INTEGER,
        store: "memory",
      });
      if (E.isLeft(fgeCollector)) throw new Error(`internal: ${fgeCollector.left.message}`);
      const collector = fgeCollector.right;

      for (let epoch = state.epoch; epoch < end; epoch++) {
        const t0 = Date.now();
        const batches = epochPlan(config, data.train.count, epoch);
        let lossSum = 0;
        let lrFirst = 0;
        let lrLast = 0;
        const swaSteps = [...state.swaSteps];
        // FGE snapshots taken this epoch (the earlier ones are in the checkpoint's groups).
        let fgeState: SnapshotState = collector.init();
        for (let i = 0; i < spe; i++) {
          const idx = batches[i] as Int32Array;
          const phaseStep = (epoch - first) * spe + i;
          const scheduleStep =
            phase === "pretrain" || phase === "sgd" ? epoch * spe + i : phaseStep;
          const lr = schedule(scheduleStep);
          if (i === 0) lrFirst = lr;
          lrLast = lr;
          const { x, y } = trainBatch(data, idx, augmentSeed(config, epoch, i));
          const r = sgdStep(model, velocity, x, y, lr, config);
          velocity = r.velocity;
          const loss = (await r.loss.data())[0] as number;
          tf.dispose([x, y, r.loss]);
          if (!Number.isFinite(loss))
            throw new AppError(
              `${phase}: the training loss is ${loss} at epoch ${epoch + 1} step ${i + 1}; lower --lr or the schedule's rates`,
              1,
            );
          lossSum += loss;
          if (phase === "swa" && swaNow(phaseStep)) {
            const w = fromModel(model, { include: "all" });
            swa = averager.update(swa, w);
            disposeWeights(w);
            swaSteps.push(phaseStep);
          }
          if (phase === "fge" && collector.policy(phaseStep)) {
            const w = fromModel(model, { include: "all" });
            const next = await collector.update(fgeState, phaseStep, w);
            disposeWeights(w);
            if (E.isLeft(next)) throw new Error(`internal: ${next.left.message}`);
            fgeState = next.right;
          }
          progress.step(phaseStep + 1, { epoch, epochs: config.epochs, loss, lr });
          await tick();
          if (ctx.signal.aborted) {
            await disposeSnapshots(fgeState);
            throw new Interrupted(
              `in ${phase} at epoch ${epoch + 1} step ${i + 1}; the last checkpoint (${state.phase} epoch ${state.epoch}) is intact`,
            );
          }
        }

        // ---- epoch end: curves, phase results, checkpoint -------------------------------------
        const err = await testError(model, data, ctx.curveIdx);
        let swaErr: number | undefined;
        if (phase === "swa" && swa.mean !== null && !hasBn(model)) {
          const live = fromModel(model, { include: "all" });
          assign(swa.mean);
          swaErr = await testError(model, data, ctx.curveIdx);
          assign(live);
          disposeWeights(live);
        }
        const fgeSteps = [...state.fgeSteps];
        for (const snap of fgeState.snapshots) {
          if (snap.kind !== "memory") throw new Error("internal: FGE snapshots are kept in memory");
          setGroup(`fge${fgeSteps.length}`, snap.weights); // the groups own them from here
          fgeSteps.push(snap.step);
        }
        const seconds = (Date.now() - t0) / 1000;
        const record: EpochRecord = {
          phase,
          epoch,
          trainLoss: lossSum / spe,
          testError: err,
          ...(swaErr === undefined ? {} : { swaTestError: swaErr }),
          lrFirst,
          lrLast,
          seconds,
        };
        const last = epoch + 1 === end;
        const nextPhase: Phase | "done" = last ? (phases[order + 1] ?? "done") : phase;
        if (last) await finishPhase(phase, fgeSteps.length);
        state = {
          ...state,
          phase: nextPhase,
          epoch: last ? config.swaStart : epoch + 1,
          history: [...state.history, record],
          swaCount: swa.n,
          swaSteps,
          fgeSteps,
          seconds: { ...state.seconds, [phase]: (state.seconds[phase] ?? 0) + seconds },
        };
        setGroup("model", fromModel(model, { include: "all" }));
        setGroup("velocity", clone(velocity));
        if (swa.mean !== null) setGroup("swaMean", clone(swa.mean));
        await saveCheckpoint(ctx.checkpointDir, state, groups);
        progress.step((epoch - first + 1) * spe, {
          epoch,
          epochs: config.epochs,
          loss: record.trainLoss,
          lr: lrLast,
        });
        progress.epochEnd({
          epoch,
          epochs: config.epochs,
          loss: record.trainLoss,
          lr: lrLast,
          seconds,
          extra: `test error ${(err * 100).toFixed(2)}%${swaErr === undefined ? "" : ` (SWA ${(swaErr * 100).toFixed(2)}%)`}`,
        });
      }
      progress.stop();
    }
  } catch (e) {
    // Interrupted or failed: the checkpoint on disk is the state; free the one in memory.
    for (const g of Object.values(groups)) disposeWeights(g);
    throw e;
  } finally {
    disposeVelocity(velocity);
    if (swa.mean !== null) disposeWeights(swa.mean);
  }

  const take = (name: string): Weights => {
    const w = groups[name];
    if (w === undefined) throw new Error(`internal: checkpoint lacks ${name}`);
    delete groups[name];
    return w;
  };
  const fge = state.fgeSteps.map((_, k) => take(`fge${k}`));
  const out: Trained = {
    state,
    pretrained: take("pretrained"),
    sgd: take("sgdFinal"),
    swa: take("swaFinal"),
    fge,
    schedules,
  };
  for (const g of Object.values(groups)) disposeWeights(g);
  return out;

  /** Stores the phase's result in the groups: pretrained point, SGD final, SWA final. */
  async function finishPhase(phase: Phase, fgeCount: number): Promise<void> {
    if (phase === "pretrain") {
      setGroup("pretrained", fromModel(model, { include: "all" }));
      setGroup("pretrainedVelocity", clone(velocity));
    } else if (phase === "sgd") {
      setGroup("sgdFinal", fromModel(model, { include: "all" }));
    } else if (phase === "swa") {
      if (swa.mean === null)
        throw new AppError(
          "swa: no model was averaged; the SWA phase must contain at least one cycle end (lower --swa-every)",
        );
      const live = fromModel(model, { include: "all" });
      assign(swa.mean);
      await updateBatchNorm(model, bnBatches(data, config, config.epochs), {
        disposeBatches: true,
      });
      setGroup("swaFinal", fromModel(model, { include: "all" }));
      assign(live);
      disposeWeights(live);
    } else if (phase === "fge" && fgeCount === 0) {
      throw new AppError(
        "fge: no snapshot was taken; the FGE phase must contain at least half a cycle (lower --fge-cycle)",
      );
    }
  }
};

const hasBn = (model: tfl.LayersModel): boolean =>
  model.layers.some((l) => l.getClassName() === "BatchNormalization");
