import * as tf from "@tensorflow/tfjs";
import type { ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import { disposeOptState, initLoop, sgd, softmaxCrossEntropy } from "@wider/training";
import { beforeAll, describe, expect, it } from "vitest";
import { parallelRunner } from "../src/index.js";
import { nodeTransport } from "../src/node.js";
import { batchesFor, build, expectClose, reference } from "./helpers.js";

const spec: ModelSpec = {
  kind: "cnn",
  filters: [4, 8],
  dense: 16,
  inputShape: [12, 12, 1],
  seed: 5,
  batchNorm: true,
};
const shape = [12, 12, 1] as const;
const ROWS = 16;

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

describe("BatchNorm: each replica normalizes with its slice's statistics; moving statistics are averaged", () => {
  it("first BN layer after one step: moving mean = the full-batch one; moving variance = mean of slice variances", async () => {
    const runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 2,
      backend: "cpu",
      model: { spec },
      optimizer: { kind: "sgd" },
      hashEvery: 1,
    });
    const model = build(spec);
    const batches = batchesFor(shape, ROWS);
    const r = await runner.runSteps({
      model,
      optimizer: sgd(),
      loss: softmaxCrossEntropy(),
      schedule: constant(0.05),
      batches,
      state: initLoop(model, sgd()),
      to: 1,
    });
    disposeOptState(r.state.opt);
    await runner.close();
    const got = (n: string) =>
      Float32Array.from(
        model.weights
          .find((v) => v.originalName === n)!
          .read()
          .dataSync(),
      );
    const full = await reference(spec, sgd(), batches, 1, 0.05);
    // The mean: average of the replicas' updates = the full-batch update (equal slices).
    expectClose({ m: got("bn1/moving_mean") }, { m: full["bn1/moving_mean"]! }, 1e-5);
    // The variance: momentum * 1 + (1 - momentum) * mean over slices of each slice's (biased)
    // variance, computed here from bn1's input on the initial weights.
    const init = build(spec);
    const bn1 = init.getLayer("bn1");
    const toBn = tf.model({ inputs: init.inputs, outputs: bn1.input as tf.SymbolicTensor });
    const { x } = await batches(0);
    const slices = [x.slice(0, ROWS / 2), x.slice(ROWS / 2)];
    const momentum = 0.9;
    const want = tf.tidy(() => {
      const vars = slices.map((s) => tf.moments(toBn.predict(s) as tf.Tensor, [0, 1, 2]).variance);
      return tf.add(tf.mul(tf.addN(vars), (1 - momentum) / 2), momentum).dataSync() as Float32Array;
    });
    const fullVar = tf.tidy(
      () =>
        tf
          .add(
            tf.mul(tf.moments(toBn.predict(x) as tf.Tensor, [0, 1, 2]).variance, 1 - momentum),
            momentum,
          )
          .dataSync() as Float32Array,
    );
    expectClose({ v: got("bn1/moving_variance") }, { v: Float32Array.from(want) }, 1e-5);
    // The caveat: it is below the full-batch moving variance by the variance of the slice means.
    const v = got("bn1/moving_variance");
    expect(v.every((val, i) => val <= fullVar[i]! + 1e-7)).toBe(true);
    expect(full["bn1/moving_variance"]!.every((val, i) => Math.abs(val - fullVar[i]!) < 1e-5)).toBe(
      true,
    );
    tf.dispose([x, ...slices]);
    init.dispose();
    model.dispose();
  });
});
