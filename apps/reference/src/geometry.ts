/**
 * The geometry phase, composed from `@wider/geometry`: random rays (uniform directions over the
 * trainable weights, the same directions from both centers) from the SGD and SWA solutions with
 * their widths, the segment `w(t) = t w_sgd + (1 - t) w_swa`, and the plane through the SWA, SGD and
 * pretrained points. Each point is evaluated on `geometrySubset` train and test images (BatchNorm
 * re-estimated per point when the model has it). Results are kept in the checkpoint directory
 * after every point, so an interrupted geometry phase resumes where it stopped. How each point is
 * evaluated is in `geometryEval.ts`.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  linspace,
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
import type { Config } from "./config.js";
import type { AppDataset } from "./dataset.js";
import { orThrow, planEvaluator, type RemotePlans, trainable } from "./geometryEval.js";
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

/** Ray distances: `rayPoints` rounded up to odd, evenly spaced in `[-rayDistance, rayDistance]`. */
export const rayDistances = (config: Config): number[] =>
  linspace(-config.rayDistance, config.rayDistance, 2 * Math.floor(config.rayPoints / 2) + 1);

/** Number of points the geometry phase evaluates. */
export const geometryPoints = (config: Config): number =>
  2 * config.rays * rayDistances(config).length +
  config.segmentPoints +
  (config.planeGrid >= 2 ? config.planeGrid ** 2 : 0);
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
