/**
 * The JS side of each benchmark figure, on the active TensorFlow.js backend: training throughput,
 * the cost of one SWA and one EMA update, a BatchNorm re-estimation pass and an FGE prediction.
 * Every function disposes what it creates (the suite checks `tf.memory().numTensors` at the end).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type Averager, disposeState, ema, swa, updateBatchNorm } from "@wider/averaging";
import { ensembleProbabilities, type Snapshot } from "@wider/ensembling";
import { disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { buildModel, type ModelName } from "../models.js";
import type { BenchConfig } from "./config.js";
import { type Timing, timeOperation } from "./timing.js";

/** Samples per second of SGD steps (lr 0.01, softmax cross-entropy on logits, loss read back). */
export const trainingThroughput = async (
  name: ModelName,
  config: BenchConfig,
  budget: { readonly seconds: number; readonly minRuns: number; readonly warmupRuns: number },
): Promise<{ samplesPerSecond: number; timing: Timing }> => {
  const model = buildModel(name, 0);
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([config.batch, 28, 28, 1], 0, 1, "float32", 1);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([config.batch], 0, 10, "int32", 2), 10));
  try {
    const timing = await timeOperation(
      `train/${name}/${tf.getBackend()}`,
      () => {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
          true,
        );
        loss?.dataSync();
        loss?.dispose();
      },
      budget,
    );
    return { samplesPerSecond: (config.batch * 1000) / timing.meanMs, timing };
  } finally {
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
};

/**
 * Milliseconds of one averaging update as a training loop does it: copy the model's weights out
 * (`fromModel`), `update` the running mean, free the copy. The first update (a copy) is not timed.
 */
export const updateCost = async (
  name: ModelName,
  rule: "swa" | "ema",
  config: BenchConfig,
): Promise<Timing> => {
  const model = buildModel(name, 0);
  const averager: Averager = rule === "swa" ? swa() : ema({ decay: 0.999 });
  const first = fromModel(model);
  let state = averager.update(averager.init(), first);
  disposeWeights(first);
  try {
    return await timeOperation(
      `${rule}-update/${name}`,
      () => {
        const w = fromModel(model);
        state = averager.update(state, w);
        disposeWeights(w);
      },
      { seconds: config.updateSeconds, minRuns: 5, warmupRuns: 3 },
    );
  } finally {
    disposeState(state);
    model.dispose();
  }
};

/** Random input batches covering `samples` samples (the last one smaller), the caller owns them. */
const inputBatches = (samples: number, batch: number): tf.Tensor4D[] => {
  const out: tf.Tensor4D[] = [];
  for (let s = 0, i = 0; s < samples; s += batch, i++) {
    out.push(tf.randomNormal([Math.min(batch, samples - s), 28, 28, 1], 0, 1, "float32", 10 + i));
  }
  return out;
};

/** Milliseconds of one `updateBatchNorm` pass over `config.bnSamples` samples (CNN with BN). */
export const batchNormCost = async (config: BenchConfig): Promise<Timing> => {
  const model = buildModel("cnn-bn", 0);
  const batches = inputBatches(config.bnSamples, config.batch);
  try {
    return await timeOperation(
      "bn-update/cnn-bn",
      async () => {
        await updateBatchNorm(model, batches);
      },
      { seconds: config.updateSeconds, minRuns: 2, warmupRuns: 1 },
    );
  } finally {
    tf.dispose(batches);
    model.dispose();
  }
};

/**
 * Milliseconds of one FGE prediction: the softmax average of `config.fgeMembers` CNN snapshots
 * (held in memory) over `config.fgeSamples` samples, streamed by `ensembleProbabilities`.
 */
export const fgeCost = async (config: BenchConfig): Promise<Timing> => {
  const model = buildModel("cnn", 0);
  const members: Snapshot[] = [];
  for (let i = 0; i < config.fgeMembers; i++) {
    const m = buildModel("cnn", 100 + i);
    members.push({ kind: "memory", step: i, weights: fromModel(m) });
    m.dispose();
  }
  const x = tf.randomNormal([config.fgeSamples, 28, 28, 1], 0, 1, "float32", 3);
  try {
    return await timeOperation(
      "fge-predict/cnn",
      async () => {
        const r = await ensembleProbabilities(
          model,
          members,
          { test: x },
          {
            logits: true,
            batchSize: config.predictBatch,
          },
        );
        if (E.isLeft(r)) throw new Error(`FGE prediction failed: ${r.left.message}`);
        r.right.test.dispose();
      },
      { seconds: config.updateSeconds, minRuns: 2, warmupRuns: 1 },
    );
  } finally {
    x.dispose();
    for (const m of members) if (m.kind === "memory") disposeWeights(m.weights);
    model.dispose();
  }
};
