import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { assignToModel, disposeWeights, flatten, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { buildModel, hasBatchNorm, parameterCount } from "../src/models.js";

const shape = { imageShape: [28, 28, 1] as const, classes: 10 };

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const weightsOf = (m: ReturnType<typeof buildModel>): Float32Array => {
  const w = fromModel(m, { include: "all" });
  const f = flatten(w);
  disposeWeights(w);
  return f;
};

describe.each(["mlp", "cnn", "vgg", "preresnet"] as const)("model %s", (name) => {
  it("is reproducible from its seed, with explicit names that move weights between instances", () => {
    const before = tf.memory().numTensors;
    const a = buildModel(name, shape, 3);
    const b = buildModel(name, shape, 3);
    const c = buildModel(name, shape, 4);
    const wa = weightsOf(a);
    expect(weightsOf(b)).toEqual(wa);
    expect(weightsOf(c)).not.toEqual(wa);
    // every variable is named after an explicit layer name, never an auto-generated one
    for (const w of a.weights) expect(w.originalName).not.toMatch(/_[A-Z][A-Za-z]+\d+\//);
    // the third instance's tfjs variable names got suffixes, yet weights move by name
    const w = fromModel(a, { include: "all" });
    expect(E.isRight(assignToModel(c, w))).toBe(true);
    disposeWeights(w);
    expect(weightsOf(c)).toEqual(wa);
    const y = tf.tidy(() => c.apply(tf.zeros([2, 28, 28, 1]), { training: false }) as tf.Tensor);
    expect(y.shape).toEqual([2, 10]);
    y.dispose();
    expect(hasBatchNorm(a)).toBe(name === "preresnet");
    expect(parameterCount(a)).toBeGreaterThan(10_000);
    for (const m of [a, b, c]) m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
