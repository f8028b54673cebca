// Fast Geometric Ensembling on a small synthetic problem, end to end:
// train with a triangular learning rate, collect a snapshot at each cycle's midpoint,
// ensemble the snapshots' softmax probabilities, score them, and compare with SWA.
// Run: pnpm example (in packages/ensembling)
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { isCycleMidpoint, triangular } from "@wider/schedules";
import { disposeWeights, fromModel } from "@wider/weights";
import {
  collectAt,
  compareEnsembleToSwa,
  disposeSnapshots,
  ensembleProbabilities,
  predictionMetrics,
  predictProbabilities,
} from "../src/index.js";

// Three Gaussian blobs in 8-D (seeded).
const blobs = (n: number, seed: number) => {
  const labels = Array.from({ length: n }, (_, i) => i % 3);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 3).toFloat());
  const x = tf.tidy(() =>
    tf.add(
      tf.randomNormal([n, 8], 0, 1, "float32", seed),
      tf.mul(
        tf.pad(y, [
          [0, 0],
          [0, 5],
        ]),
        1.5,
      ),
    ),
  );
  return { x, y, labels };
};
const train = blobs(600, 1);
const test = blobs(300, 2);

// Explicit layer names, so snapshots move between model instances by name.
const model = tf.sequential({
  layers: [
    tf.layers.dense({
      name: "hidden",
      inputShape: [8],
      units: 32,
      activation: "relu",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
    tf.layers.dense({
      name: "out",
      units: 3,
      activation: "softmax",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  ],
});
const optimizer = tf.train.sgd(0.1);
model.compile({ optimizer, loss: "categoricalCrossentropy" });

const cycle = 20; // steps per cycle (even, so the midpoint exists)
const lr = triangular({ high: 0.1, low: 0.005, cycle });
const collector = collectAt(isCycleMidpoint(cycle), { maxCount: 8, store: "memory" });
let state = collector.init();
for (let step = 0; step < 200; step++) {
  optimizer.setLearningRate(lr(step));
  const start = (step * 30) % 600;
  const [xb, yb] = [train.x.slice(start, 30), train.y.slice(start, 30)];
  await model.trainOnBatch(xb, yb);
  tf.dispose([xb, yb]);
  const w = fromModel(model, { include: "all" });
  state = orThrow(await collector.update(state, step, w));
  disposeWeights(w);
}

const { test: pEnsemble } = orThrow(await ensembleProbabilities(model, state, { test: test.x }));
const pLast = orThrow(predictProbabilities(model, test.x));
const report = orThrow(await compareEnsembleToSwa(model, state, test.x, { labels: test.labels }));
console.log(
  JSON.stringify(
    {
      snapshots: state.snapshots.map((s) => s.step),
      ensemble: orThrow(predictionMetrics(pEnsemble, test.labels)),
      lastModel: orThrow(predictionMetrics(pLast, test.labels)),
      swaVsEnsemble: {
        ensembleSwaTv: report.ensembleSwaTv,
        memberPairwiseTv: report.memberPairwiseTv,
        gapToSpreadRatio: report.gapToSpreadRatio,
        ensembleSwaAgreement: report.ensembleSwaAgreement,
        memberPairwiseAgreement: report.memberPairwiseAgreement,
        swaAccuracy: report.metrics?.swa.accuracy,
      },
    },
    null,
    2,
  ),
);
tf.dispose([pEnsemble, pLast, train.x, train.y, test.x, test.y]);
await disposeSnapshots(state);
