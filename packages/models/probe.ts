import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import { buildModel, parameterCounts, type ModelSpec } from "./src/index.js";
await initWasmTraining();
const kinds = (process.argv[2] ?? "vgg16,vgg16bn,preresnet110,preresnet164,wrn28x10").split(",");
for (const kind of kinds) {
  const t0 = performance.now();
  const m = buildModel({ kind } as ModelSpec);
  if (m._tag === "Left") throw new Error(m.left.message);
  const model = m.right;
  const t1 = performance.now();
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const x = tf.randomNormal([2, ...shape], 0, 1, "float32", 5);
  const y = tf.oneHot(tf.tensor1d([1, 3], "int32"), 10);
  const opt = tf.train.sgd(0.01);
  const t2 = performance.now();
  const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
  const lv = (await loss!.data())[0];
  const t3 = performance.now();
  console.log(kind, parameterCounts(model), "build", (t1 - t0).toFixed(0), "step", (t3 - t2).toFixed(0), "loss", lv);
  tf.dispose([x, y, loss!]); opt.dispose(); model.dispose();
}
console.log(tf.memory().numTensors);
