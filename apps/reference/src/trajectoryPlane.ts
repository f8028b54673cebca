/**
 * The trajectory analysis end to end (the paper's section 3.1, Figures 1 and 3): both rates'
 * runs from the pretrained point (`trajectory.ts`), then the plane through the cyclical run's
 * first, middle and last proposals, evaluated (train loss and test error on `geometrySubset`
 * images, BatchNorm re-estimated per point, resumable result files), with every proposal of both
 * runs, both runs' SWA averages and the pretrained point projected onto it and their distances
 * from it; then the findings (`trajectoryFindings.ts`).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { disposePlan, type PlanResults, planeThrough, projectAllOnto } from "@wider/geometry";
import type { TrainingState } from "@wider/training";
import { disposeWeights, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";
import type { AppDataset } from "./dataset.js";
import { planEvaluator, trainable } from "./geometryEval.js";
import type { Progress } from "./progress.js";
import type { ScheduleSet } from "./schedules.js";
import { analyseRate, type RateRun } from "./trajectory.js";
import { type TrajectoryFindings, trajectoryFindings } from "./trajectoryFindings.js";
import { startStepper, workersNote } from "./workers.js";

/** A point projected onto the trajectory plane. */
export interface PlanePoint {
  /** `cyclical` / `constant`: that run's proposal or average; `start`: the pretrained point. */
  readonly run: "cyclical" | "constant" | "start";
  readonly kind: "proposal" | "swa" | "pretrained";
  /** The proposal's index in its run (0 for the average and the pretrained point). */
  readonly index: number;
  readonly label: string;
  /** Coordinates in the plane's basis (origin: the first anchor). */
  readonly x: number;
  readonly y: number;
  /** Euclidean distance from the plane in weight space (trainable weights). */
  readonly residual: number;
}

/** The plane through three cyclical proposals, its evaluation and every projected point. */
export interface TrajectoryPlane {
  /** Labels of the three anchors (`w1`, `w2`, `w3` of the plane). */
  readonly anchors: readonly [string, string, string];
  readonly results: PlanResults;
  readonly points: readonly PlanePoint[];
}

/** The `trajectory` section of `report.json`. */
export interface TrajectoryResult {
  /** Test images each proposal and average is scored on. */
  readonly testImages: number;
  readonly runs: { readonly cyclical: RateRun; readonly constant: RateRun };
  /** `null` when the cyclical run has fewer than two proposals (see `planeNote`). */
  readonly plane: TrajectoryPlane | null;
  /** How the plane's anchors were chosen, or why there is no plane. */
  readonly planeNote: string;
  readonly findings: TrajectoryFindings;
  readonly seconds: number;
}

/** What the analysis needs from the run. */
export interface TrajectoryContext {
  readonly config: Config;
  readonly data: AppDataset;
  readonly model: tfl.LayersModel;
  readonly schedules: ScheduleSet;
  readonly pretrained: TrainingState;
  readonly testIdx: Int32Array;
  /** BatchNorm re-estimation batches for scoring (null: the model has no BatchNorm). */
  readonly bn: (() => Iterable<tf.Tensor>) | null;
  /** Keeps the plane's result file. */
  readonly resumeDir: string;
  readonly progress: Progress;
  readonly signal: { readonly aborted: boolean };
}

/**
 * The plane's anchors: the cyclical run's first, middle and last proposals; with only two, the
 * pretrained point (where both runs start) and the two proposals. `null` with fewer.
 */
export const planeAnchors = (
  n: number,
): { readonly picks: readonly [number, number, number]; readonly note: string } | null => {
  if (n >= 3) {
    const mid = Math.floor((n - 1) / 2);
    return {
      picks: [0, mid, n - 1],
      note: `The plane through the cyclical run's proposals ${1}, ${mid + 1} and ${n} (first, middle, last).`,
    };
  }
  if (n === 2)
    return {
      picks: [-1, 0, 1],
      note: "The cyclical run has only two proposals: the plane goes through the pretrained point (where both runs start) and those two.",
    };
  return null;
};

/**
 * The smallest grid margin (relative to the anchors' extent per axis, as `planeThrough`'s) at
 * least `base` that puts every point on the grid, with 5 % to spare, at most `max`.
 *
 * @example
 * fitMargin([[0, 0], [1, 0], [0.5, 1]], [{ x: 1.5, y: 0.5 }]) // 0.525
 */
export const fitMargin = (
  anchors: ReadonlyArray<readonly [number, number]>,
  points: ReadonlyArray<{ readonly x: number; readonly y: number }>,
  base = 0.2,
  max = 2,
): number => {
  const need = (a: readonly number[], p: readonly number[]): number => {
    const lo = Math.min(...a);
    const hi = Math.max(...a);
    const ext = hi - lo;
    if (!(ext > 0) || p.length === 0) return 0;
    return Math.max((lo - Math.min(...p)) / ext, (Math.max(...p) - hi) / ext);
  };
  const n = Math.max(
    need(
      anchors.map((q) => q[0]),
      points.map((q) => q.x),
    ),
    need(
      anchors.map((q) => q[1]),
      points.map((q) => q.y),
    ),
  );
  return n <= base ? base : Math.min(max, n * 1.05);
};

/** Runs the whole trajectory analysis; frees everything it made. */
export const runTrajectory = async (ctx: TrajectoryContext): Promise<TrajectoryResult> => {
  const t0 = Date.now();
  // --workers N: the two SGD runs train on N worker threads, as the training tracks do.
  const stepper = await startStepper(ctx.config, ctx.data);
  const note = workersNote(stepper.workers);
  if (note !== null) ctx.progress.log(`trajectory analysis: ${note}`);
  const sweep = { ...ctx, runSteps: stepper.runSteps };
  const held: Weights[] = [];
  try {
    const cyc = await analyseRate(sweep, "cyclical", ctx.testIdx, ctx.bn);
    held.push(...cyc.proposals, cyc.average);
    const con = await analyseRate(sweep, "constant", ctx.testIdx, ctx.bn);
    held.push(...con.proposals, con.average);
    const anchors = planeAnchors(cyc.proposals.length);
    const plane =
      anchors === null || ctx.config.trajectoryGrid < 2
        ? null
        : await planeSection(ctx, anchors.picks, cyc, con);
    return {
      testImages: ctx.testIdx.length,
      runs: { cyclical: cyc.run, constant: con.run },
      plane,
      planeNote:
        anchors?.note ??
        "No plane: the cyclical run has a single proposal; lower --swa-every or raise --epochs.",
      findings: trajectoryFindings(cyc.run, con.run),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    for (const w of held) disposeWeights(w);
    await stepper.close();
  }
};

type Analysed = { readonly proposals: readonly Weights[]; readonly average: Weights };

const planeSection = async (
  ctx: TrajectoryContext,
  picks: readonly [number, number, number],
  cyc: Analysed,
  con: Analysed,
): Promise<TrajectoryPlane> => {
  const keys = ctx.model.trainableWeights.map((v) => v.originalName);
  const tr = (w: Weights) => trainable(w, keys);
  const start = tr(ctx.pretrained.weights);
  const at = (i: number): Weights => (i < 0 ? start : tr(cyc.proposals[i] as Weights));
  const label = (i: number) => (i < 0 ? "pretrained" : `cyclical ${i + 1}`);
  const through = (margin: number) => {
    const p = planeThrough(at(picks[0]), at(picks[1]), at(picks[2]), {
      grid: ctx.config.trajectoryGrid,
      margin,
    });
    if (E.isLeft(p))
      throw new AppError(
        `trajectory (plane): ${p.left.message}; turn it off with --trajectory-grid 0`,
        1,
      );
    return p;
  };
  let plan = through(0.2);
  // Project before the evaluation, which frees the plan.
  const points: Array<Omit<PlanePoint, "x" | "y" | "residual"> & { w: Weights }> = [
    { run: "start", kind: "pretrained", index: 0, label: "pretrained", w: start },
    ...(["cyclical", "constant"] as const).flatMap((run) => {
      const a = run === "cyclical" ? cyc : con;
      return [
        ...a.proposals.map((w, index) => ({
          run,
          kind: "proposal" as const,
          index,
          label: `${run} ${index + 1}`,
          w: tr(w),
        })),
        { run, kind: "swa" as const, index: 0, label: `SWA (${run})`, w: tr(a.average) },
      ];
    }),
  ];
  const projected = projectAllOnto(
    plan.right,
    points.map((p) => p.w),
  );
  if (E.isLeft(projected)) {
    disposePlan(plan.right);
    throw new Error(`internal: ${projected.left.message}`);
  }
  // Widen the grid so that every projected point lies on it (the coordinates do not change).
  const margin = fitMargin(plan.right.anchors, projected.right);
  if (margin > 0.2) {
    disposePlan(plan.right);
    plan = through(margin);
  }
  ctx.progress.phase("trajectory plane", ctx.config.trajectoryGrid ** 2, 0);
  let ev: Awaited<ReturnType<typeof planEvaluator>>;
  try {
    ev = await planEvaluator(
      ctx.config,
      ctx.model,
      ctx.data,
      ctx.resumeDir,
      ctx.progress,
      ctx.signal,
      "the trajectory plane",
    );
  } catch (e) {
    disposePlan(plan.right);
    throw e;
  }
  try {
    // The proposals are rerun on --resume: a result file of other proposals (another backend)
    // is replaced rather than refused.
    const results = await ev.run(plan.right, "plane", true);
    ctx.progress.stop();
    return {
      anchors: [label(picks[0]), label(picks[1]), label(picks[2])],
      results,
      points: points.map(({ w: _w, ...p }, i) => {
        const q = projected.right[i] as { x: number; y: number; residual: number };
        return { ...p, x: q.x, y: q.y, residual: q.residual };
      }),
    };
  } finally {
    ev.dispose();
  }
};
