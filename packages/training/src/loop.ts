/**
 * The training loop, driven by ONE global step counter: step `s` trains on `batches(s)` at rate
 * `schedule(s)`, and every hook receives that same `s`, so averaging policies, snapshot policies
 * and the rate all read one clock. Because the batch is a function of the step, resuming at step
 * `k` needs no iterator state: pass a state whose `step` is `k`.
 *
 * Building `batches` from `@wider/data`'s seeded batch plans (this package does not depend on it):
 *
 * ```ts
 * const spe = planBatches({ count, batchSize, seed: 0, dropRemainder: true }).length;
 * const batches = (step: number) => {
 *   const epoch = Math.floor(step / spe);
 *   const plan = planBatches({ count, batchSize, seed: deriveSeed(dataSeed, epoch), dropRemainder: true });
 *   return toTensors(plan[step % spe]!); // your { x, y } for those example indices
 * };
 * ```
 * (cache the plan of the current epoch if planning is costly; it is a pure function of the epoch).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Schedule } from "@wider/schedules";
import { fromModel, type Include, type Weights } from "@wider/weights";
import { fail } from "./errors.js";
import type { Loss } from "./loss.js";
import { disposeOptState, type Optimizer, type OptState } from "./optimizers.js";
import { trainStep } from "./step.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The live state of a run: the next global step to run and the optimizer state (the model holds the weights). */
export interface LoopState {
  readonly step: number;
  readonly opt: OptState;
}

/** One batch: inputs and targets (e.g. integer labels). */
export interface Batch {
  readonly x: tf.Tensor;
  readonly y: tf.Tensor;
}

/** The batch of a global step; may be async (e.g. decoding images). */
export type Batches = (step: number) => Batch | Promise<Batch>;

/** What `onStep` hooks receive, after the update of global step `step`. */
export interface StepInfo {
  /** The global step just run; the rate was `schedule(step)`. */
  readonly step: number;
  readonly lr: number;
  /** The batch loss before the update. */
  readonly loss: number;
  /** The state after the step (`state.step === step + 1`); read it, do not dispose it. */
  readonly state: LoopState;
  readonly model: tfl.LayersModel;
}

/** What `onEpoch` hooks receive, after the last step of an epoch. */
export interface EpochInfo {
  /** 0-based epoch, `floor(step / stepsPerEpoch)`. */
  readonly epoch: number;
  /** The epoch's last global step. */
  readonly step: number;
  /** Mean batch loss over the epoch's steps run in this call (fewer than `stepsPerEpoch` after a mid-epoch resume). */
  readonly meanLoss: number;
  /** How many of the epoch's steps this call ran. */
  readonly steps: number;
  readonly state: LoopState;
  readonly model: tfl.LayersModel;
}

/** A hook: called after each step and (with `stepsPerEpoch`) after each epoch; may be async. */
export interface Hook {
  readonly onStep?: (info: StepInfo) => void | Promise<void>;
  readonly onEpoch?: (info: EpochInfo) => void | Promise<void>;
  /**
   * Whether `onStep` after global step `step` reads `info.model` or `info.state.opt` (default:
   * after every step). `runSteps` keeps the model current anyway; a loop that trains elsewhere
   * (`@wider/parallel`'s replicas) copies the model and the optimizer state back only after the
   * steps some hook reads (and at epoch ends, for `onEpoch`), and at the others hands the hooks
   * `info.step`, `info.lr`, `info.loss` and `info.state.step` current, the model and
   * `info.state.opt` as last copied.
   *
   * @example
   * const progress: Hook = { onStep: ({ step, loss }) => log(step, loss), readsModel: () => false };
   */
  readonly readsModel?: (step: number) => boolean;
}

/** Options of {@link runSteps}. */
export interface RunStepsOptions {
  readonly model: tfl.LayersModel;
  readonly optimizer: Optimizer;
  readonly loss: Loss;
  /** The rate of global step `s` is `schedule(s)`. */
  readonly schedule: Schedule;
  readonly batches: Batches;
  /** Where to start: `state.step` is the first step run. Consumed. */
  readonly state: LoopState;
  /** Run steps `state.step, ..., to - 1`. */
  readonly to: number;
  /** Called in order after each step, then (at an epoch's end) `onEpoch` in order. */
  readonly hooks?: readonly Hook[];
  /** Steps per epoch, for `onEpoch` hooks. */
  readonly stepsPerEpoch?: number;
  /** Checked before every step; once aborted, the loop returns the state reached. */
  readonly signal?: AbortSignal;
  /** Dispose each batch's `x` and `y` after its step (default true: `batches` makes them per step). */
  readonly disposeBatches?: boolean;
}

/** What {@link runSteps} returns: the state reached (caller-owned) and whether the signal stopped it. */
export interface RunResult {
  readonly state: LoopState;
  readonly aborted: boolean;
}

/** Options of {@link collect}. */
export interface CollectOptions<S> {
  /** The collector's state before the first collection (e.g. `averager.init()`); the hook owns it from here. */
  readonly state: S;
  /** `state -> state`, given the model's weights (the hook disposes them after) and the global step. */
  readonly update: (state: S, weights: Weights, step: number) => S | Promise<S>;
  /** Collect after global step `step` when `policy(step)`. */
  readonly policy: (step: number) => boolean;
  /** Which weights to take: `"all"` (default, with BatchNorm moving statistics) or `"trainable"`. */
  readonly include?: Include;
}

/** A collecting hook; `state` is the collector's latest state (the caller frees it when done). */
export interface Collector<S> extends Hook {
  readonly state: S;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * A hook feeding the model's weights to any `{ update(state, weights) }` pair (an
 * `@wider/averaging` averager, an `@wider/ensembling` snapshot collector, a SWAG moment
 * collector) at the global steps where `policy(step)` holds (its `readsModel` is `policy`).
 *
 * @example
 * const avg = swa();
 * const swaHook = collect({ state: avg.init(), update: avg.update, policy: atCycleEnds(100) });
 * // after runSteps: swaHook.state.mean holds the running average
 */
export const collect = <S>(options: CollectOptions<S>): Collector<S> => {
  let state = options.state;
  const include = options.include ?? "all";
  return {
    get state() {
      return state;
    },
    readsModel: options.policy,
    onStep: async ({ step, model }) => {
      if (!options.policy(step)) return;
      const w = fromModel(model, { include });
      try {
        state = await options.update(state, w, step);
      } finally {
        for (const t of Object.values(w)) t.dispose();
      }
    },
  };
};

/**
 * Calls `hooks` after each step as `runSteps` does: every `onStep`, then (with `stepsPerEpoch`)
 * every `onEpoch` after an epoch's last step, with the mean loss of the epoch's steps run since
 * the last epoch end. For other loops that drive the same hooks (e.g. `@wider/parallel`'s).
 *
 * @example
 * const afterStep = hookCaller(hooks, stepsPerEpoch);
 * await afterStep({ step, lr, loss, state, model }); // after each step
 */
export const hookCaller = (
  hooks: readonly Hook[],
  stepsPerEpoch: number | undefined,
): ((info: StepInfo) => Promise<void>) => {
  let epochLoss = 0;
  let epochSteps = 0;
  return async (info) => {
    epochLoss += info.loss;
    epochSteps += 1;
    for (const h of hooks) await h.onStep?.(info);
    const spe = stepsPerEpoch;
    if (spe === undefined || (info.step + 1) % spe !== 0) return;
    const epoch: EpochInfo = {
      epoch: Math.floor(info.step / spe),
      step: info.step,
      meanLoss: epochLoss / epochSteps,
      steps: epochSteps,
      state: info.state,
      model: info.model,
    };
    epochLoss = 0;
    epochSteps = 0;
    for (const h of hooks) await h.onEpoch?.(epoch);
  };
};

/**
 * Whether any of `hooks` reads the model or the optimizer state after global step `step`: an
 * `onStep` whose `readsModel(step)` holds (or that has no `readsModel`), or, with
 * `stepsPerEpoch`, an `onEpoch` at an epoch's last step. For loops that keep the model elsewhere
 * and copy it back only when a hook needs it (e.g. `@wider/parallel`'s).
 *
 * @example
 * const needs = readsModelAfter(hooks, stepsPerEpoch);
 * if (needs(step)) copyStateBack();
 */
export const readsModelAfter =
  (hooks: readonly Hook[], stepsPerEpoch: number | undefined) =>
  (step: number): boolean =>
    hooks.some(
      (h) =>
        (h.onStep !== undefined && (h.readsModel === undefined || h.readsModel(step))) ||
        (h.onEpoch !== undefined &&
          stepsPerEpoch !== undefined &&
          (step + 1) % stepsPerEpoch === 0),
    );

// -------------------------------------------------------------------------------------
// the loop
// -------------------------------------------------------------------------------------

const checkInt = (field: string, v: number, min: number, fix: string): void => {
  if (!Number.isSafeInteger(v) || v < min)
    fail("config", `runSteps: ${field} was ${String(v)}; ${fix}`, { path: field, value: v, fix });
};

/**
 * Runs global steps `state.step .. to - 1`: for each, `batches(step)`, one {@link trainStep} at
 * `schedule(step)`, then the hooks. Consumes `options.state` and returns the state reached. If a
 * batch, the schedule or a hook throws, the loop frees the optimizer state it holds and rethrows
 * (resume from your last checkpoint).
 *
 * @example
 * const r = await runSteps({ model, optimizer, loss, schedule, batches, state, to: 1000, hooks: [swaHook] });
 * state = r.state;
 */
export const runSteps = async (options: RunStepsOptions): Promise<RunResult> => {
  const { model, optimizer, loss, schedule, batches, to } = options;
  const hooks = options.hooks ?? [];
  const spe = options.stepsPerEpoch;
  checkInt(
    "state.step",
    options.state.step,
    0,
    "pass a state from initLoop, restore or a previous runSteps",
  );
  checkInt("to", to, options.state.step, `pass an integer >= state.step (${options.state.step})`);
  if (spe !== undefined) checkInt("stepsPerEpoch", spe, 1, "pass a positive integer");
  const step1 = trainStep(model, loss, optimizer);
  let state = options.state;
  const afterStep = hookCaller(hooks, spe);
  try {
    while (state.step < to) {
      if (options.signal?.aborted === true) return { state, aborted: true };
      const step = state.step;
      const lr = schedule(step);
      const batch = await batches(step);
      let r: ReturnType<typeof step1>;
      try {
        r = step1(state.opt, batch.x, batch.y, lr);
      } finally {
        if (options.disposeBatches !== false) {
          batch.x.dispose();
          batch.y.dispose();
        }
      }
      state = { step: step + 1, opt: r.state };
      await afterStep({ step, lr, loss: r.loss, state, model });
    }
  } catch (e) {
    disposeOptState(state.opt);
    throw e;
  }
  return { state, aborted: false };
};
