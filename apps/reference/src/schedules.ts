/**
 * The run's learning-rate schedules and collection policies, every one a function of the ONE
 * global step (`epoch * stepsPerEpoch + i`), as `@wider/training`'s loop reads them:
 *
 * - `sgd`: the SGD baseline over the budget (the authors' SGD form by default);
 * - `swa`: the SWA track. Protocol `shared` continues from the pretrained point (epoch
 *   `swaStart`) with the paper's cyclical rate (from the SGD rate at `swaStart` down to `swaLr`,
 *   one cycle per `swaEvery` epochs; constant when they are equal); protocol `authors` is the
 *   SWA repository's own run from the initial weights, the SGD schedule compressed to `swaStart`
 *   and then constant `swaLr`;
 * - `fge`: triangular cycles from the pretrained point, a snapshot at each cycle's middle.
 *
 * Averaging (and SWAG collection) happens after the last step of every `swaEvery`-th epoch: in the
 * shared protocol from the pretrained point on, at each cycle's end (its lowest rate); in the
 * authors' protocol from the end of epoch `swaStart - 1` on, as their `train.py` does.
 *
 * @module
 */
import {
  constant,
  cyclical,
  fromSpec,
  join,
  type Schedule,
  swaReference,
  triangular,
} from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";

/** The schedules and step ranges of a run (all in global steps). */
export interface ScheduleSet {
  readonly sgd: Schedule;
  readonly swa: Schedule;
  readonly fge: Schedule;
  readonly stepsPerEpoch: number;
  /** First global step of the SWA track (0 for the authors' protocol, else the pretrained point). */
  readonly swaFrom: number;
  /** Global step at which averaging may start (`swaStart` epochs). */
  readonly swaStartStep: number;
  /** Global step where the budget ends (`epochs`). */
  readonly budgetStep: number;
  /** Global step where the SWA track ends (`epochs + swaExtend`). */
  readonly swaEnd: number;
  /** Steps between two averages (`swaEvery` epochs). */
  readonly swaCycle: number;
  /** FGE cycle length in steps (even; a snapshot at step `cycle/2` of each). */
  readonly fgeCycle: number;
  /** Whether to average (and collect SWAG) after global step `step`. */
  readonly swaCollect: (step: number) => boolean;
  /** Whether to take an FGE snapshot after global step `step`. */
  readonly fgeCollect: (step: number) => boolean;
}

const specSchedule = (spec: Record<string, unknown>, field: string): Schedule => {
  const s = fromSpec(spec);
  if (E.isLeft(s)) throw new AppError(`${field}: ${s.left.message}`);
  return s.right;
};

/** The run's schedules for `spe` steps per epoch. */
export const makeSchedules = (config: Config, spe: number): ScheduleSet => {
  const swaStartStep = config.swaStart * spe;
  const budgetStep = config.epochs * spe;
  const swaEnd = (config.epochs + config.swaExtend) * spe;
  const sgd =
    config.pretrainSchedule === null
      ? swaReference({ lrInit: config.lr, epochs: config.epochs, stepsPerEpoch: spe })
      : specSchedule(config.pretrainSchedule, "pretrainSchedule");
  const swaCycle = config.swaEvery * spe;
  let swa: Schedule;
  let swaFrom: number;
  if (config.protocol === "authors") {
    swaFrom = 0;
    swa =
      config.swaSchedule === null
        ? swaReference({
            lrInit: config.lr,
            swaLr: config.swaLr,
            swaStart: config.swaStart,
            stepsPerEpoch: spe,
          })
        : specSchedule(config.swaSchedule, "swaSchedule");
  } else {
    swaFrom = swaStartStep;
    const high = Math.max(sgd(swaStartStep), config.swaLr);
    const phase =
      config.swaSchedule === null
        ? high === config.swaLr
          ? constant(config.swaLr)
          : cyclical({ high, low: config.swaLr, cycle: swaCycle })
        : specSchedule(config.swaSchedule, "swaSchedule");
    // `join` re-bases the SWA piece to the pretrained point: its step 0 is global step swaStartStep.
    swa = join([sgd, phase], [swaStartStep]);
  }
  const fgeCycle = Math.max(2, 2 * Math.floor((config.fgeCycle * spe) / 2));
  const fge = join(
    [sgd, triangular({ high: config.fgeLrMax, low: config.fgeLrMin, cycle: fgeCycle })],
    [swaStartStep],
  );
  return {
    sgd,
    swa,
    fge,
    stepsPerEpoch: spe,
    swaFrom,
    swaStartStep,
    budgetStep,
    swaEnd,
    swaCycle,
    fgeCycle,
    // The authors collect after every epoch e with e + 1 >= swaStart (train.py), so their first
    // average is the end of epoch swaStart - 1; from the pretrained point the first is a cycle later.
    swaCollect:
      config.protocol === "authors"
        ? (step) => step + 1 >= swaStartStep && (step + 1 - swaStartStep) % swaCycle === 0
        : (step) => step >= swaStartStep && (step + 1 - swaStartStep) % swaCycle === 0,
    fgeCollect: (step) => step >= swaStartStep && (step - swaStartStep) % fgeCycle === fgeCycle / 2,
  };
};
