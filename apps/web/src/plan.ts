/**
 * The run's schedules and collection policies as functions of the one global step, the same
 * composition as the reference app's shared protocol (`apps/reference/src/schedules.ts`, its
 * test oracle here): SGD on the authors' schedule over the budget; SWA from the pretrained point
 * (epoch `swaStart`) with a cyclical rate down to `swaLr`, averaged at each cycle's end; FGE from
 * the same point with triangular cycles, a snapshot at each cycle's middle.
 *
 * @module
 */
import {
  constant,
  cyclical,
  join,
  type Schedule,
  swaReference,
  triangular,
} from "@wider/schedules";
import type { Settings } from "./settings.js";

/** The three tracks the page trains, one after the other. */
export type Track = "sgd" | "swa" | "fge";

/** Schedules, ranges and policies of a run (global steps). */
export interface RunPlan {
  readonly stepsPerEpoch: number;
  readonly swaStartStep: number;
  readonly budgetStep: number;
  readonly swaCycle: number;
  readonly fgeCycle: number;
  readonly schedules: Readonly<Record<Track, Schedule>>;
  /** First and end (exclusive) global step of each track. */
  readonly range: Readonly<Record<Track, readonly [number, number]>>;
  readonly swaCollect: (step: number) => boolean;
  readonly fgeCollect: (step: number) => boolean;
}

/** The plan of a run of `settings` (full batches only: `floor(trainSubset / batchSize)` per epoch). */
export const makePlan = (s: Settings): RunPlan => {
  const spe = Math.floor(s.trainSubset / s.batchSize);
  const swaStartStep = s.swaStart * spe;
  const budgetStep = s.epochs * spe;
  const sgd = swaReference({ lrInit: s.lr, epochs: s.epochs, stepsPerEpoch: spe });
  const swaCycle = s.swaEvery * spe;
  const high = Math.max(sgd(swaStartStep), s.swaLr);
  const phase =
    high === s.swaLr ? constant(s.swaLr) : cyclical({ high, low: s.swaLr, cycle: swaCycle });
  const swa = join([sgd, phase], [swaStartStep]);
  const fgeCycle = Math.max(2, 2 * Math.floor((s.fgeCycle * spe) / 2));
  const fge = join(
    [sgd, triangular({ high: s.fgeLrMax, low: s.fgeLrMin, cycle: fgeCycle })],
    [swaStartStep],
  );
  return {
    stepsPerEpoch: spe,
    swaStartStep,
    budgetStep,
    swaCycle,
    fgeCycle,
    schedules: { sgd, swa, fge },
    range: {
      sgd: [0, budgetStep],
      swa: [swaStartStep, budgetStep],
      fge: [swaStartStep, budgetStep],
    },
    swaCollect: (step) => step >= swaStartStep && (step + 1 - swaStartStep) % swaCycle === 0,
    fgeCollect: (step) => step >= swaStartStep && (step - swaStartStep) % fgeCycle === fgeCycle / 2,
  };
};

/** Total training steps of the three tracks. */
export const totalSteps = (p: RunPlan): number =>
  (["sgd", "swa", "fge"] as const).reduce((n, t) => n + p.range[t][1] - p.range[t][0], 0);

/** `{ step, lr, track }` rows of every track's schedule over its range (every `stride`-th step). */
export const scheduleRows = (
  p: RunPlan,
  stride = 1,
): Array<{ step: number; lr: number; track: Track }> => {
  const rows: Array<{ step: number; lr: number; track: Track }> = [];
  for (const track of ["sgd", "swa", "fge"] as const) {
    const [a, b] = p.range[track];
    for (let step = a; step < b; step += stride)
      rows.push({ step, lr: p.schedules[track](step), track });
  }
  return rows;
};
