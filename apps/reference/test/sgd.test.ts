import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { beforeAll, describe, expect, it } from "vitest";
import { disposeVelocity, sgdStep, zeroVelocity } from "../src/sgd.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** Independent oracle in float64: softmax regression, PyTorch SGD with momentum and coupled decay. */
const oracle = (
  x: number[][],
  y: number[],
  W0: number[][],
  b0: number[],
  lrs: number[],
  m: number,
  wd: number,
) => {
  const W = W0.map((r) => [...r]);
  const b = [...b0];
  const vW = W.map((r) => r.map(() => 0));
  const vb = b.map(() => 0);
  const losses: number[] = [];
  for (const lr of lrs) {
    const n = x.length;
    const gW = W.map((r) => r.map(() => 0));
    const gb = b.map(() => 0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i] as number[];
      const z = b.map((bk, k) => bk + xi.reduce((s, xj, j) => s + xj * (W[j] as number[])[k]!, 0));
      const mx = Math.max(...z);
      const e = z.map((v) => Math.exp(v - mx));
      const s = e.reduce((a, c) => a + c, 0);
      const p = e.map((v) => v / s);
      loss -= Math.log(p[y[i]!]!) / n;
      p.forEach((pk, k) => {
        const d = (pk - (k === y[i] ? 1 : 0)) / n;
        gb[k]! += d;
        xi.forEach((xj, j) => {
          (gW[j] as number[])[k]! += xj * d;
        });
      });
    }
    losses.push(loss);
    W.forEach((r, j) => {
      r.forEach((w, k) => {
        const d = gW[j]![k]! + wd * w;
        vW[j]![k] = m * vW[j]![k]! + d;
        r[k] = w - lr * vW[j]![k]!;
      });
    });
    b.forEach((w, k) => {
      const d = gb[k]! + wd * w;
      vb[k] = m * vb[k]! + d;
      b[k] = w - lr * vb[k]!;
    });
  }
  return { W, b, losses };
};

describe("sgdStep", () => {
  it("matches PyTorch-style SGD (momentum, coupled weight decay) on softmax regression", async () => {
    const x = [
      [0.5, -1, 2],
      [1.5, 0.3, -0.7],
      [-0.2, 0.8, 0.1],
      [1, 1, -1],
    ];
    const y = [0, 1, 1, 0];
    const W0 = [
      [0.1, -0.2],
      [0.3, 0.05],
      [-0.4, 0.2],
    ];
    const b0 = [0.01, -0.02];
    const lrs = [0.5, 0.3, 0.1, 0.2];
    const opts = { momentum: 0.9, weightDecay: 0.01 };
    const model = tfl.sequential({
      layers: [tfl.layers.dense({ name: "d", inputShape: [3], units: 2 })],
    });
    model.setWeights([tf.tensor2d(W0), tf.tensor1d(b0)]);
    const before = tf.memory().numTensors;
    let v = zeroVelocity(model);
    const xs = tf.tensor2d(x);
    const ys = tf.tensor1d(y, "int32");
    const losses: number[] = [];
    for (const lr of lrs) {
      const r = sgdStep(model, v, xs, ys, lr, opts);
      v = r.velocity;
      losses.push((await r.loss.data())[0] as number);
      r.loss.dispose();
    }
    tf.dispose([xs, ys]);
    disposeVelocity(v);
    expect(tf.memory().numTensors).toBe(before);
    const want = oracle(x, y, W0, b0, lrs, opts.momentum, opts.weightDecay);
    const [W, b] = model.getWeights() as [tf.Tensor, tf.Tensor];
    const gotW = W.arraySync() as number[][];
    const gotB = b.arraySync() as number[];
    for (const [j, r] of want.W.entries())
      for (const [k, w] of r.entries()) expect(gotW[j]![k]).toBeCloseTo(w, 5);
    for (const [k, w] of want.b.entries()) expect(gotB[k]).toBeCloseTo(w, 5);
    for (const [i, l] of want.losses.entries()) expect(losses[i]).toBeCloseTo(l, 5);
    // the weights moved: a test that cannot pass by doing nothing
    expect(Math.abs(gotW[0]![0]! - W0[0]![0]!)).toBeGreaterThan(1e-3);
    model.dispose();
  });
});
