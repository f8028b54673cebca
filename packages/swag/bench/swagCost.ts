/**
 * Cost of SWAG on the MLP 784-512-256-10 (batch 128) on the wasm backend (training with the
 * @wider/backend kernels, which also register the one-pass SWA kernel the moments use):
 * 1. one `swag().update` (with the `fromModel` copy a training loop needs) against one SGD step;
 * 2. one BMA sample (draws, sample, assign, predict; no BatchNorm in this model) against one
 *    inference pass over the same evaluation set (1,024 rows).
 * Not part of the tests. Usage: pnpm bench   (env BENCH_SECONDS, default 4 per timed loop)
 */
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { predictProbabilities } from "@wider/ensembling";
import { disposeWeights, fromModel, numel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { bayesianModelAverage, disposeSwagState, swag } from "../src/index.js";

const BATCH = 128;
const SECONDS = Number(process.env.BENCH_SECONDS ?? "4");

const time = async (f: () => unknown, warmup: number, seconds: number) => {
  for (let i = 0; i < warmup; i++) await f();
  const t0 = performance.now();
  let runs = 0;
  while (runs === 0 || performance.now() - t0 < seconds * 1000) {
    await f();
    runs++;
  }
  return { ms: (performance.now() - t0) / runs, runs };
};

const main = async () => {
  await initWasmTraining();
  console.log(`@wider/swag bench on ${tf.getBackend()}, budget ${SECONDS}s per loop`);
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [28, 28, 1] }),
      tf.layers.dense({ units: 512, activation: "relu" }),
      tf.layers.dense({ units: 256, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([BATCH, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, "int32"), 10);
  const step = () => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  };
  const train = await time(step, 3, SECONDS);
  const collector = swag();
  let state = collector.init();
  const collect = () => {
    step(); // one SGD step between collections, so the ring holds distinct iterates
    const w = fromModel(model);
    state = collector.update(state, w);
    disposeWeights(w);
  };
  // Fill the ring first (K = 20), so timed updates also free the oldest deviation.
  for (let i = 0; i < 25; i++) collect();
  const update = await time(
    () => {
      const w = fromModel(model);
      state = collector.update(state, w);
      disposeWeights(w);
      Object.values(state.mean!).at(-1)!.dataSync();
    },
    3,
    SECONDS / 2,
  );
  const params = numel(state.mean!);
  const evalX = tf.randomNormal([1024, 28, 28, 1]);
  const infer = await time(
    () => {
      const p = predictProbabilities(model, evalX);
      if (E.isRight(p)) p.right.dispose();
    },
    2,
    SECONDS / 2,
  );
  const S = 10;
  const bma = await time(
    async () => {
      const r = await bayesianModelAverage(model, state, { test: evalX }, { samples: S });
      if (E.isLeft(r)) throw new Error(r.left.message);
      r.right.test.dispose();
    },
    1,
    SECONDS,
  );
  const perSample = bma.ms / S;
  console.log(
    `MLP 784-512-256-10, ${params} params: SGD step ${train.ms.toFixed(1)} ms (${train.runs} steps); ` +
      `swag update ${update.ms.toFixed(2)} ms (${update.runs}) = ${((100 * update.ms) / train.ms).toFixed(2)} % of a step`,
  );
  console.log(
    `inference pass (1,024 rows) ${infer.ms.toFixed(1)} ms (${infer.runs}); BMA ${S} samples ${bma.ms.toFixed(1)} ms (${bma.runs}) = ` +
      `${perSample.toFixed(1)} ms per sample = ${(perSample / infer.ms).toFixed(2)}x an inference pass`,
  );
  disposeSwagState(state);
  tf.dispose([x, y, evalX]);
  optimizer.dispose();
  model.dispose();
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
