// The README example, verbatim apart from the test scaffolding (console.log becomes expect), so it
// stays runnable.
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { expect, it } from "vitest";
import {
  buildModel,
  cnn,
  decodeModelSpec,
  hasBatchNorm,
  mlp,
  parameterCounts,
} from "../src/index.js";

it("README example", async () => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;

  const small = mlp({ hidden: [256, 128], seed: 7 });
  expect(parameterCounts(small)).toEqual({ trainable: 235146, nonTrainable: 0 });

  const spec = decodeModelSpec(JSON.parse('{ "kind": "cnn", "batchNorm": true, "classes": 100 }'));
  const model = E.isRight(spec) ? buildModel(spec.right) : spec;
  expect(E.isRight(model)).toBe(true);
  if (E.isRight(model)) {
    const logits = tf.tidy(() => model.right.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor);
    expect([logits.shape, hasBatchNorm(model.right)]).toEqual([[2, 100], true]);
    logits.dispose();
    model.right.dispose();
  }
  const bad = buildModel({ kind: "mlp", hidden: [512, 0] });
  expect(E.isLeft(bad) && bad.left.message).toBe(
    "spec.hidden is [512,0]; expected a non-empty array of positive integers",
  );

  const a = cnn({ seed: 3 });
  const b = cnn({ seed: 3 });
  expect(a.getWeights()[0]!.dataSync()[0] === b.getWeights()[0]!.dataSync()[0]).toBe(true);
  for (const m of [small, a, b]) m.dispose();

  expect(tf.memory().numTensors).toBe(start);
});
