/**
 * The geometry phase, composed from `@wider/geometry`: random rays (uniform directions over the
 * trainable weights, the same directions from both centers) from the SGD and SWA solutions with
 * their widths, the segment `w(t) = t w_sgd + (1 - t) w_swa`, and the plane through the SWA, SGD and
 * pretrained points. Each point is evaluated on `geometrySubset` train and test images (BatchNorm
 * re-estimated per point when the model has it). Results are kept in the checkpoint directory
 * after every point, so an interrupted geometry phase resumes where it stopped.
 *
 * @module
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  linspace,
  type Metrics,
  type Plan,
  type PlanResults,
  planeThrough,
  randomDirection,
  rayFrom,
  segment,
  summarizeWidths,
  type WidthSummary,
  widthsOfRays,
} from "@wider/geometry";
import { disposeWeights, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError, Interrupted } from "./AppError.js";
import type { Config } from "./config.js";
import { type AppDataset, evalBatch } from "./dataset.js";
import { hasBatchNorm } from "./models.js";
import type { Progress } from "./progress.js";

/** All geometry results (plain JSON, as `@wider/geometry` returns them). */
export interface GeometryResult {
  readonly rays: {
    /** Distances along each ray (two-sided, 0 included). */
    readonly distances: readonly number[];
    readonly sgd: readonly PlanResults[];
    readonly swa: readonly PlanResults[];
    /** Width samples are half-rays (each ray gives two); `null` quartiles: beyond the ray's reach. */
    readonly widthSgd: WidthSummary | null;
    readonly widthSwa: WidthSummary | null;
  };
  readonly segment: PlanResults | null;
  readonly plane: PlanResults | null;
  /** Points evaluated in all. */
  readonly points: number;
  readonly seconds: number;
}

const orThrow = <A>(e: E.Either<{ readonly message: string }, A>, what: string): A => {
  if (E.isLeft(e)) throw new AppError(`geometry (${what}): ${e.left.message}`, 1);
  return e.right;
};

/** Only the trainable weights of a solution (directions, plans and projections live in that space). */
export const trainable = (w: Weights, keys: readonly string[]): Weights =>
  Object.fromEntries(keys.map((k) => [k, w[k] as tf.Tensor]));

/** Ray distances: `rayPoints` rounded up to odd, evenly spaced in `[-rayDistance, rayDistance]`. */
export const rayDistances = (config: Config): number[] =>
  linspace(-config.rayDistance, config.rayDistance, 2 * Math.floor(config.rayPoints / 2) + 1);

/** Number of points the geometry phase evaluates. */
export const geometryPoints = (config: Config): number =>
  2 * config.rays * rayDistances(config).length +
  config.segmentPoints +
  (config.planeGrid >= 2 ? config.planeGrid ** 2 : 0);

/** How each geometry point is evaluated: what `evaluatePlan` (or a worker's point job) takes. */
export interface GeometryEvaluator {
  readonly evaluate: (m: tfl.LayersModel) => Promise<Metrics>;
  /** BatchNorm re-estimation batches (models with BatchNorm only). */
  readonly bnBatches: (() => Generator<tf.Tensor>) | undefined;
  /** Frees the evaluation images. */
  readonly dispose: () => void;
}

/**
 * The geometry evaluation of a run: `geometrySubset` train and test images through
 * `evaluateClassifier`, and (with BatchNorm) re-estimation batches of `batchSize` from the same
 * train images. `wider worker` builds the very same one for distributed plane points, so their
 * results equal the local ones bit for bit on the same backend. `phase` names the phase in the
 * interruption message.
 */
export const geometryEvaluator = (
  config: Config,
  model: tfl.LayersModel,
  data: AppDataset,
  signal: { readonly aborted: boolean },
  phase = "geometry",
): GeometryEvaluator => {
  const nTrain = Math.min(config.geometrySubset, data.train.count);
  const nTest = Math.min(config.geometrySubset, data.test.count);
  const idx = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
  const train = evalBatch(data, data.train, idx(nTrain));
  const test = evalBatch(data, data.test, idx(nTest));
  const classify = evaluateClassifier(
    { train: { x: train.x, y: train.y }, test: { x: test.x, y: test.y } },
    { fromLogits: true, batchSize: 500 },
  );
  const evaluate = (m: tfl.LayersModel) => {
    if (signal.aborted) throw new Interrupted(`in ${phase}; its results so far are kept`);
    return classify(m);
  };
  // BatchNorm statistics re-estimated at each point on the geometry train images.
  const bnBatches = hasBatchNorm(model)
    ? () =>
        (function* () {
          for (let i = 0; i < nTrain; i += config.batchSize) {
            const b = evalBatch(
              data,
              data.train,
              idx(Math.min(config.batchSize, nTrain - i)).map((k) => k + i),
            );
            b.y.dispose();
            yield b.x;
          }
        })()
    : undefined;
  return {
    evaluate,
    bnBatches,
    dispose: () => tf.dispose([train.x, train.y, test.x, test.y]),
  };
};

/**
 * Evaluates a plan elsewhere (distributed geometry: `wider --geometry-redis`); `onProgress` gets
 * the points done so far. Its results must be what `evaluatePlan` gives (the same evaluator).
 */
export type RemotePlans = (
  plan: Plan,
  name: string,
  onProgress: (done: number) => void,
) => Promise<PlanResults>;

/** Evaluates plans point by point (see {@link planEvaluator}). */
export interface PlanEvaluator {
  /**
   * Evaluates (or resumes) `plan`, kept in `<resumeDir>/<name>.json`; frees the plan. With
   * `replaceStale`, a result file of another plan is replaced instead of refused.
   */
  readonly run: (plan: Plan, name: string, replaceStale?: boolean) => Promise<PlanResults>;
  /** Points evaluated so far. */
  readonly done: () => number;
  /** Frees the evaluation images. */
  readonly dispose: () => void;
}

/**
 * Evaluates plans with {@link geometryEvaluator}, each plan's results kept in `resumeDir` after
 * every point so that an interrupted phase resumes, or on workers through `remote`. Progress
 * counts points across plans, after the caller's `progress.phase`.
 */
export const planEvaluator = async (
  config: Config,
  model: tfl.LayersModel,
  data: AppDataset,
  resumeDir: string,
  progress: Progress,
  signal: { readonly aborted: boolean },
  phase: string,
  remote?: RemotePlans,
): Promise<PlanEvaluator> => {
  await mkdir(resumeDir, { recursive: true });
  const setup = geometryEvaluator(config, model, data, signal, phase);
  const { evaluate, bnBatches } = setup;
  let done = 0;
  const run = async (plan: Plan, name: string, replaceStale = false): Promise<PlanResults> => {
    const base = done;
    try {
      if (remote !== undefined) {
        const results = await remote(plan, name, (d) =>
          progress.step(base + d, { epoch: 0, epochs: 1, loss: Number.NaN, lr: 0 }),
        );
        done = base + results.results.length;
        return results;
      }
      const file = join(resumeDir, `${name}.json`);
      const once = () =>
        evaluatePlan(plan, {
          model,
          evaluate,
          ...(bnBatches === undefined
            ? {}
            : { bnBatches, bnOptions: { disposeBatches: true } as const }),
          resume: { file },
          onProgress: (p) => {
            progress.step(base + p.done, {
              epoch: 0,
              epochs: 1,
              loss: p.metrics?.trainLoss ?? Number.NaN,
              lr: 0,
            });
          },
        });
      let r = await once();
      if (replaceStale && E.isLeft(r) && r.left.kind === "plan-mismatch") {
        await rm(file, { force: true });
        r = await once();
      }
      const results = orThrow(r, name);
      done = base + results.results.length;
      return results;
    } finally {
      disposePlan(plan);
    }
  };
  return { run, done: () => done, dispose: setup.dispose };
};

/** Runs the geometry phase on the trained solutions; `resumeDir` keeps per-plan result files. */
export const runGeometry = async (
  config: Config,
  model: tfl.LayersModel,
  data: AppDataset,
  solutions: { readonly pretrained: Weights; readonly sgd: Weights; readonly swa: Weights },
  resumeDir: string,
  progress: Progress,
  signal: { readonly aborted: boolean },
  remote?: RemotePlans,
): Promise<GeometryResult> => {
  const t0 = Date.now();
  const ev = await planEvaluator(
    config,
    model,
    data,
    resumeDir,
    progress,
    signal,
    "geometry",
    remote,
  );
  const keys = model.trainableWeights.map((w) => w.originalName);
  progress.phase("geometry", geometryPoints(config), 0);
  const run = ev.run;
  try {
    const sgd = trainable(solutions.sgd, keys);
    const swa = trainable(solutions.swa, keys);
    const distances = rayDistances(config);
    const raysSgd: PlanResults[] = [];
    const raysSwa: PlanResults[] = [];
    for (let r = 0; r < config.rays; r++) {
      const d = randomDirection(sgd, config.geometrySeed * 1000 + r + 1);
      try {
        raysSgd.push(await run(orThrow(rayFrom(sgd, d, distances), "ray"), `ray-sgd-${r}`));
        raysSwa.push(await run(orThrow(rayFrom(swa, d, distances), "ray"), `ray-swa-${r}`));
      } finally {
        disposeWeights(d);
      }
    }
    const widths = (rays: readonly PlanResults[]): WidthSummary | null =>
      rays.length === 0
        ? null
        : summarizeWidths(
            orThrow(
              widthsOfRays(rays, { metric: "trainLoss", delta: config.widthThreshold }),
              "width",
            ),
          );
    const seg =
      config.segmentPoints === 0
        ? null
        : await run(
            orThrow(segment(swa, sgd, linspace(-0.5, 1.5, config.segmentPoints)), "segment"),
            "segment",
          );
    const plane =
      config.planeGrid < 2
        ? null
        : await run(
            orThrow(
              planeThrough(swa, sgd, trainable(solutions.pretrained, keys), {
                grid: config.planeGrid,
                margin: 0.2,
              }),
              "plane",
            ),
            "plane",
          );
    progress.stop();
    return {
      rays: {
        distances,
        sgd: raysSgd,
        swa: raysSwa,
        widthSgd: widths(raysSgd),
        widthSwa: widths(raysSwa),
      },
      segment: seg,
      plane,
      points: ev.done(),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    ev.dispose();
  }
};
