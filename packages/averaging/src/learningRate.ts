/**
 * Setting an optimizer's learning rate, and a `model.fit` callback driving it from a schedule.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { raise } from "@wider/errors";
import type { Schedule } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import { type AveragingError, averagingError } from "./errors.js";
import { assertOwnCallback, assertOwnLayersModel } from "./sameTfjs.js";

/** Optimizers read `learningRate` on every step; tfjs declares it `protected` (no public setter). */
interface WithLearningRateField {
  learningRate: number;
}

/** Optimizers whose `learningRate` field is read afresh in each `applyGradients`. */
const FIELD_OPTIMIZERS = new Set(["Adam", "Adamax", "Adagrad", "Adadelta", "RMSProp"]);

/**
 * Sets the learning rate of a tfjs optimizer, explicitly per class: SGD and Momentum through
 * their public `setLearningRate` (which also refreshes the cached `-lr` scalar); Adam, Adamax,
 * Adagrad, Adadelta and RMSProp through their `learningRate` field, which their
 * `applyGradients` reads on each step (tfjs gives them no setter). Other classes are a `Left`.
 *
 * @example
 * setLearningRate(model.optimizer, 0.01);
 */
export const setLearningRate = (
  optimizer: tf.Optimizer,
  lr: number,
): E.Either<AveragingError, void> => {
  if (!Number.isFinite(lr) || lr < 0) {
    return E.left(
      averagingError("config", `learning rate is ${lr}; use a finite number >= 0`, {
        path: "lr",
        value: lr,
        fix: "a finite number >= 0",
      }),
    );
  }
  const name = optimizer.getClassName();
  const withSetter = optimizer as tf.Optimizer & { setLearningRate?: (lr: number) => void };
  if ((name === "SGD" || name === "Momentum") && typeof withSetter.setLearningRate === "function") {
    withSetter.setLearningRate(lr);
    return E.right(undefined);
  }
  if (FIELD_OPTIMIZERS.has(name)) {
    // The field is `protected` in the .d.ts but public at runtime; see WithLearningRateField.
    (optimizer as unknown as WithLearningRateField).learningRate = lr;
    return E.right(undefined);
  }
  return E.left(
    averagingError(
      "unsupported",
      `cannot set the learning rate of a ${name} optimizer; use SGD, Momentum, Adam, Adamax, Adagrad, Adadelta or RMSProp`,
      { value: name, fix: "SGD, Momentum, Adam, Adamax, Adagrad, Adadelta or RMSProp" },
    ),
  );
};

/** Reads an optimizer's current learning rate (the field every tfjs optimizer keeps). */
export const getLearningRate = (optimizer: tf.Optimizer): number =>
  (optimizer as unknown as WithLearningRateField).learningRate;

/** Options of {@link LearningRateCallback}. */
export interface LearningRateCallbackOptions {
  /** The rate per 0-based global step (batch), e.g. from `@wider/schedules`. */
  readonly schedule: Schedule;
  /** The step of the first batch (default 0), to resume a run. */
  readonly initialStep?: number;
}

/**
 * A `model.fit` callback that sets the optimizer's learning rate to `schedule(step)` before each
 * batch; `step` counts batches across epochs and across `fit` calls. Throws (failing `fit`) when
 * the optimizer's rate cannot be set. It keeps its own counter: for SWA (a rate schedule plus
 * averaging) use `swaCallback`, which drives both from one counter.
 */
export class LearningRateCallback extends tfl.Callback {
  /** The global step of the next batch. */
  step: number;
  private readonly schedule: Schedule;

  constructor(options: LearningRateCallbackOptions) {
    super();
    this.schedule = options.schedule;
    this.step = options.initialStep ?? 0;
  }

  /** Fails early, with the fix, when the model comes from another tfjs-layers copy. */
  override async onTrainBegin(): Promise<void> {
    assertOwnCallback(this, LearningRateCallback, "LearningRateCallback");
  }

  /** Sets the model; refuses one from another copy of @tensorflow/tfjs-layers. */
  override setModel(model: tfl.LayersModel): void {
    assertOwnLayersModel(model, "LearningRateCallback");
    super.setModel(model);
  }

  override async onBatchBegin(): Promise<void> {
    assertOwnCallback(this, LearningRateCallback, "LearningRateCallback");
    const r = setLearningRate(this.model.optimizer, this.schedule(this.step));
    if (E.isLeft(r)) raise({ ...r.left, message: `LearningRateCallback: ${r.left.message}` });
  }

  override async onBatchEnd(): Promise<void> {
    assertOwnCallback(this, LearningRateCallback, "LearningRateCallback");
    this.step++;
  }
}

/**
 * Factory for {@link LearningRateCallback}.
 *
 * @example
 * await model.fit(x, y, { callbacks: [learningRateScheduler({ schedule: cyclical({...}) })] });
 */
export const learningRateScheduler = (options: LearningRateCallbackOptions): LearningRateCallback =>
  new LearningRateCallback(options);
