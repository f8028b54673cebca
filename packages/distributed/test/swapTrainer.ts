/**
 * A small SGD trainer for the SWAP test and benchmark: a BatchNorm classifier (`bnModel`) on a
 * seeded Gaussian-mixture task, epochs in a seeded order, plain SGD. The worker's `swap` handler
 * here loads the phase-1 weights, trains its member and saves the final weights.
 */

import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { assignToModel, disposeWeights, fromModel, loadWeights, saveWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import type { Handlers } from "../src/index.js";
import { bnModel } from "./planeSetup.js";

/** A seeded 3-class task: class means on a circle, noisy inputs of dimension 6. */
export const task = (n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } =>
  tf.tidy(() => {
    const labels = tf.randomUniform([n], 0, 3, "int32", seed);
    const means = tf.tensor2d([
      [1.2, 0, 0.5, 0, 0, 0],
      [-0.6, 1.0, 0, 0.5, 0, 0],
      [-0.6, -1.0, 0, 0, 0.5, 0],
    ]);
    const x = tf.add(
      tf.gather(means, labels),
      tf.randomNormal([n, 6], 0, 1, "float32", seed + 1),
    ) as tf.Tensor2D;
    return { x, y: tf.oneHot(labels, 3).asType("float32") as tf.Tensor2D };
  });

/** A seeded permutation of 0..n-1 (mulberry32 + Fisher–Yates). */
export const permutation = (n: number, seed: number): Int32Array => {
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j] as number, p[i] as number];
  }
  return p;
};

/** Trains `model` for `epochs` epochs (epoch e's order seeded by `seed * 1000 + e`), plain SGD. */
export const train = async (
  model: tf.LayersModel,
  data: { x: tf.Tensor2D; y: tf.Tensor2D },
  o: { epochs: number; batch: number; lr: number; seed: number; onEpoch?: (e: number) => void },
): Promise<void> => {
  const opt = tf.train.sgd(o.lr);
  const n = data.x.shape[0];
  for (let e = 0; e < o.epochs; e++) {
    const perm = permutation(n, o.seed * 1000 + e);
    for (let i = 0; i + o.batch <= n; i += o.batch) {
      const idx = tf.tensor1d(perm.subarray(i, i + o.batch), "int32");
      const xb = tf.gather(data.x, idx);
      const yb = tf.gather(data.y, idx);
      opt.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            yb,
            model.apply(xb, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
      );
      tf.dispose([idx, xb, yb]);
      await new Promise((r) => setImmediate(r));
    }
    o.onEpoch?.(e);
  }
  opt.dispose();
};

/** The `swap` handler: member training from the phase-1 weights, saved to `<outDir>/final`. */
export const swapHandler: NonNullable<Handlers["swap"]> = async (job, ctx) => {
  const t = job.task as {
    epochs: number;
    batch: number;
    lr: number;
    dataSeed: number;
    n: number;
    taskSeed: number;
  };
  const loaded = await loadWeights(orThrow(ctx.confine(job.from, "from")));
  if (E.isLeft(loaded)) throw new Error(loaded.left.message);
  const model = bnModel(1);
  const assigned = assignToModel(model, loaded.right.weights);
  disposeWeights(loaded.right.weights);
  if (E.isLeft(assigned)) throw new Error(assigned.left.message);
  const data = task(t.n, t.taskSeed);
  await train(model, data, { epochs: t.epochs, batch: t.batch, lr: t.lr, seed: t.dataSeed });
  const w = fromModel(model, { include: "all" });
  const saved = await saveWeights(join(ctx.outDir, "final"), w);
  disposeWeights(w);
  tf.dispose([data.x, data.y]);
  model.dispose();
  if (E.isLeft(saved)) throw new Error(saved.left.message);
  return { member: job.member };
};
