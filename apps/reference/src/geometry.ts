/**
 * The geometry phase: random rays from the SGD and SWA solutions (the same directions for both),
 * their widths, the segment between them, and the plane through the pretrained, SGD and SWA
 * points. Each point is evaluated on `geometrySubset` train and test images; for a model with
 * BatchNorm, its statistics are re-estimated at each point on those train images.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { updateBatchNorm } from "@wider/averaging";
import { assignToModel, disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import type { Config } from "./config.js";
import { type AppDataset, evalBatch, type Split } from "./dataset.js";
import {
  evaluatePlane,
  evaluateRay,
  evaluateSegment,
  type PlaneResult,
  type PointScores,
  type RayResult,
  type SegmentResult,
  unitDirection,
} from "./local/geometry.js";
import { hasBatchNorm } from "./models.js";
import type { Progress } from "./progress.js";
import { crossEntropy } from "./sgd.js";

/** Median and quartiles of the widths (rays whose loss never rose count as the ray's length). */
export interface WidthSummary {
  readonly q1: number;
  readonly median: number;
  readonly q3: number;
  /** How many rays stayed below the threshold to their end. */
  readonly censored: number;
}

/** All geometry results. */
export interface GeometryResult {
  readonly rays: {
    readonly sgd: readonly RayResult[];
    readonly swa: readonly RayResult[];
    readonly widthSgd: WidthSummary | null;
    readonly widthSwa: WidthSummary | null;
  };
  readonly segment: SegmentResult | null;
  readonly plane: PlaneResult | null;
  readonly points: number;
  readonly seconds: number;
}

const quantile = (sorted: readonly number[], q: number): number => {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
};

const summarise = (rays: readonly RayResult[], length: number): WidthSummary | null => {
  if (rays.length === 0) return null;
  const ws = rays.map((r) => r.width ?? length).sort((a, b) => a - b);
  return {
    q1: quantile(ws, 0.25),
    median: quantile(ws, 0.5),
    q3: quantile(ws, 0.75),
    censored: rays.filter((r) => r.width === null).length,
  };
};

const linspace = (a: number, b: number, n: number): number[] =>
  n === 1 ? [a] : Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

/** Mean loss and error of the model over a split's `indices` in inference mode. */
const lossAndError = async (
  model: tfl.LayersModel,
  data: AppDataset,
  split: Split,
  indices: Int32Array,
): Promise<{ loss: number; error: number }> => {
  let loss = 0;
  let wrong = 0;
  for (let i = 0; i < indices.length; i += 500) {
    const idx = indices.subarray(i, i + 500);
    const { x, y } = evalBatch(data, split, idx);
    const r = tf.tidy(() => {
      const z = model.apply(x, { training: false }) as tf.Tensor;
      return tf.stack([
        tf.mul(crossEntropy(z, y), idx.length),
        tf.sum(tf.cast(tf.notEqual(tf.argMax(z, 1), y), "float32")),
      ]);
    });
    const [l, w] = await r.data();
    loss += l as number;
    wrong += w as number;
    tf.dispose([x, y, r]);
  }
  return { loss: loss / indices.length, error: wrong / indices.length };
};

/** Runs the geometry phase on the trained solutions. */
export const runGeometry = async (
  config: Config,
  model: tfl.LayersModel,
  data: AppDataset,
  solutions: { readonly pretrained: Weights; readonly sgd: Weights; readonly swa: Weights },
  trainIdx: Int32Array,
  testIdx: Int32Array,
  progress: Progress,
): Promise<GeometryResult> => {
  const t0 = Date.now();
  const gTrain = trainIdx.subarray(0, config.geometrySubset);
  const gTest = testIdx.subarray(0, config.geometrySubset);
  const bn = hasBatchNorm(model);
  const keys = model.trainableWeights.map((w) => w.originalName);
  let points = 0;
  const nPoints = 2 * config.rays * config.rayPoints + config.segmentPoints + config.planeGrid ** 2;
  progress.phase("geometry", nPoints, 0);
  const evaluate = async (w: Weights): Promise<PointScores> => {
    const r = assignToModel(model, w);
    if (E.isLeft(r)) throw new Error(`internal: ${r.left.message}`);
    if (bn) {
      const batches = function* () {
        for (let i = 0; i < gTrain.length; i += config.batchSize) {
          const { x, y } = evalBatch(data, data.train, gTrain.subarray(i, i + config.batchSize));
          y.dispose();
          yield x;
        }
      };
      await updateBatchNorm(model, batches(), { disposeBatches: true });
    }
    const tr = await lossAndError(model, data, data.train, gTrain);
    const te = await lossAndError(model, data, data.test, gTest);
    points++;
    progress.step(points, { epoch: 0, epochs: 1, loss: tr.loss, lr: 0 });
    return { trainLoss: tr.loss, trainError: tr.error, testError: te.error };
  };
  // BatchNorm statistics of the centers stay in the model between points; reset them first.
  const live = fromModel(model, { include: "all" });
  try {
    const distances = linspace(0, config.rayDistance, config.rayPoints);
    const raysSgd: RayResult[] = [];
    const raysSwa: RayResult[] = [];
    for (let r = 0; r < config.rays; r++) {
      const d = unitDirection(solutions.sgd, keys, config.geometrySeed * 1000 + r);
      try {
        assignToModel(model, solutions.sgd);
        raysSgd.push(
          await evaluateRay(solutions.sgd, d, distances, evaluate, config.widthThreshold),
        );
        assignToModel(model, solutions.swa);
        raysSwa.push(
          await evaluateRay(solutions.swa, d, distances, evaluate, config.widthThreshold),
        );
      } finally {
        disposeWeights(d);
      }
    }
    assignToModel(model, solutions.swa);
    const segment =
      config.segmentPoints === 0
        ? null
        : await evaluateSegment(
            solutions.swa,
            solutions.sgd,
            keys,
            linspace(-0.5, 1.5, config.segmentPoints),
            evaluate,
          );
    const plane =
      config.planeGrid < 2
        ? null
        : await evaluatePlane(
            [
              { name: "SWA", w: solutions.swa },
              { name: "SGD", w: solutions.sgd },
              { name: "pretrained", w: solutions.pretrained },
            ],
            keys,
            config.planeGrid,
            evaluate,
          );
    progress.stop();
    return {
      rays: {
        sgd: raysSgd,
        swa: raysSwa,
        widthSgd: summarise(raysSgd, config.rayDistance),
        widthSwa: summarise(raysSwa, config.rayDistance),
      },
      segment,
      plane,
      points,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    assignToModel(model, live);
    disposeWeights(live);
  }
};
