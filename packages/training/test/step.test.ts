import * as tf from "@tensorflow/tfjs";
import { isWiderError, WiderFailure } from "@wider/errors";
import { disposeWeights, fromModel } from "@wider/weights";
import { beforeAll, describe, expect, it } from "vitest";
import { adam, disposeOptState, sgd, softmaxCrossEntropy, trainStep } from "../src/index.js";
import { batchOf, buildClassifier, expectClose } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** What `f` throws, as `[_tag, kind, path?, value?]`; fails unless it is a WiderFailure. */
const thrown = (f: () => unknown): unknown[] => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    if (!isWiderError(e)) throw e;
    return [e._tag, e.kind, ...(e.path === undefined ? [] : [e.path, e.value])];
  }
  throw new Error("expected a throw");
};

/** Float64 oracle: softmax cross-entropy of a linear model and its gradient. */
const linearLossAndGrad = (
  x: number[][],
  labels: number[],
  W: number[][],
  b: number[],
): { loss: number; dW: number[][]; db: number[] } => {
  const B = x.length;
  const K = b.length;
  const dW = W.map((r) => r.map(() => 0));
  const db = b.map(() => 0);
  let loss = 0;
  x.forEach((xi, n) => {
    const z = b.map((bk, k) => bk + xi.reduce((s, xv, i) => s + xv * W[i]![k]!, 0));
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += (lse - z[labels[n]!]!) / B;
    for (let k = 0; k < K; k++) {
      const dz = (Math.exp(z[k]! - lse) - (k === labels[n] ? 1 : 0)) / B;
      db[k] = db[k]! + dz;
      xi.forEach((xv, i) => {
        dW[i]![k]! += xv * dz;
      });
    }
  });
  return { loss, dW, db };
};

describe("trainStep", () => {
  it("matches a float64 hand-computed SGD (momentum, weight decay) on a linear softmax model", () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 3,
          inputShape: [4],
          name: "lin",
          kernelInitializer: tf.initializers.randomNormal({ seed: 3 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
        }),
      ],
    });
    const start = tf.memory().numTensors;
    const xs = tf.randomNormal([5, 4], 0, 1, "float32", 9);
    const ys = tf.tensor1d([0, 2, 1, 2, 0], "int32");
    const x = xs.arraySync() as number[][];
    const labels = Array.from(ys.dataSync());
    let W = model.getWeights()[0]!.arraySync() as number[][];
    let b = Array.from(model.getWeights()[1]!.dataSync());
    const mom = 0.9;
    const wd = 0.01;
    const opt = sgd({ momentum: mom, weightDecay: wd });
    const step = trainStep(model, softmaxCrossEntropy(), opt);
    const w0 = fromModel(model);
    let state = opt.init(w0);
    disposeWeights(w0);
    let vW = W.map((r) => r.map(() => 0));
    let vb = b.map(() => 0);
    [0.5, 0.3, 0.1].forEach((lr, s) => {
      const ref = linearLossAndGrad(x, labels, W, b);
      const dW = ref.dW.map((r, i) => r.map((g, k) => g + wd * W[i]![k]!));
      const db = ref.db.map((g, k) => g + wd * b[k]!);
      vW = s === 0 ? dW : vW.map((r, i) => r.map((v, k) => mom * v + dW[i]![k]!));
      vb = s === 0 ? db : vb.map((v, k) => mom * v + db[k]!);
      W = W.map((r, i) => r.map((w, k) => w - lr * vW[i]![k]!));
      b = b.map((w, k) => w - lr * vb[k]!);
      const r = step(state, xs, ys, lr);
      state = r.state;
      expectClose([r.loss], [ref.loss], 1e-6, 1e-3, `loss at step ${s}`);
      const [kW, kb] = model.getWeights();
      expectClose(kW!.dataSync(), W.flat(), 1e-5, 1e-3, `kernel after step ${s}`);
      expectClose(kb!.dataSync(), b, 1e-5, 1e-3, `bias after step ${s}`);
      expectClose(state.slots.momentum!["lin/kernel"]!.dataSync(), vW.flat(), 1e-5, 1e-3, "buffer");
    });
    expect(state.count).toBe(3);
    disposeOptState(state);
    tf.dispose([xs, ys]);
    expect(tf.memory().numTensors).toBe(start);
    model.dispose();
  });

  it("runs in training mode: BatchNorm moving statistics move by (1 - momentum) * batch mean", () => {
    const model = buildClassifier();
    const { x, y } = batchOf(0);
    const hidden = tf.tidy(() => model.layers[0]!.apply(x) as tf.Tensor);
    const batchMean = Array.from(tf.tidy(() => tf.mean(hidden, 0)).dataSync());
    const opt = sgd();
    const w = fromModel(model);
    const r = trainStep(model, softmaxCrossEntropy(), opt)(opt.init(w), x, y, 0.1);
    const moving = fromModel(model, { include: "all" });
    expectClose(
      moving["bn/moving_mean"]!.dataSync(),
      batchMean.map((m) => 0.01 * m),
      1e-5,
      1e-3,
      "moving_mean",
    );
    tf.dispose([x, y, hidden]);
    disposeWeights(w);
    disposeWeights(moving);
    disposeOptState(r.state);
    model.dispose();
  });

  it("leaks no tensor over 60 steps (Adam, BatchNorm model)", () => {
    const model = buildClassifier();
    const opt = adam();
    const w = fromModel(model);
    let state = opt.init(w);
    disposeWeights(w);
    const step = trainStep(model, softmaxCrossEntropy({ labelSmoothing: 0.1 }), opt);
    const batches = Array.from({ length: 5 }, (_, i) => batchOf(i));
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let s = 0; s < 60; s++) {
      const { x, y } = batches[s % 5]!;
      const r = step(state, x, y, 0.01);
      state = r.state;
      losses.push(r.loss);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(state.count).toBe(60);
    // It learns: the mean loss of the last 5 steps is below that of the first 5.
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)));
    disposeOptState(state);
    tf.dispose(batches.flatMap((b) => [b.x, b.y]));
    model.dispose();
  });

  it("a state of another model throws a WiderFailure (TrainingError, kind shape) and leaves the state and weights as they were", () => {
    const model = buildClassifier({ batchNorm: false });
    const other = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [3], name: "other" })],
    });
    const opt = sgd({ momentum: 0.9 });
    const ow = fromModel(other);
    const state = opt.init(ow);
    disposeWeights(ow);
    const before = fromModel(model);
    const { x, y } = batchOf(1);
    const count = tf.memory().numTensors;
    expect(() => trainStep(model, softmaxCrossEntropy(), opt)(state, x, y, 0.1)).toThrow(
      WiderFailure,
    );
    expect(thrown(() => trainStep(model, softmaxCrossEntropy(), opt)(state, x, y, 0.1))).toEqual([
      "TrainingError",
      "shape",
    ]);
    expect(() => trainStep(model, softmaxCrossEntropy(), opt)(state, x, y, 0.1)).toThrow(
      /has no "hidden\/kernel"/,
    );
    expect(tf.memory().numTensors).toBe(count);
    expect(state.slots.momentum!["other/kernel"]!.isDisposed).toBe(false);
    const after = fromModel(model);
    for (const k of Object.keys(before))
      expect(after[k]!.dataSync()).toEqual(before[k]!.dataSync());
    tf.dispose([x, y]);
    disposeWeights(before);
    disposeWeights(after);
    disposeOptState(state);
    model.dispose();
    other.dispose();
  });

  it("bad options and inputs are clear errors", () => {
    expect(() => sgd({ momentum: -1 })).toThrow(
      /momentum was -1; pass a number in \[0, Infinity\)/,
    );
    expect(() => sgd({ nesterov: true })).toThrow(/nesterov needs momentum > 0/);
    expect(() => adam({ betas: [1, 0.9] })).toThrow(/betas\[0\] was 1/);
    expect(() => softmaxCrossEntropy({ labelSmoothing: 2 })).toThrow(/labelSmoothing was 2/);
    const loss = softmaxCrossEntropy();
    const l = tf.zeros([4, 3]);
    const y = tf.tensor1d([0, 1], "int32");
    expect(() => loss(l, y)).toThrow(/labels have shape \[2\] but the logits have 4 rows/);
    const opt = sgd();
    const w = { a: tf.zeros([2]) };
    const s = opt.init(w);
    expect(() => opt.update(w, s, w, Number.NaN)).toThrow(/lr was NaN; pass a finite rate >= 0/);
    // Every one is a WiderFailure with the shared shape: tag, kind, and path/value where known.
    expect(thrown(() => sgd({ momentum: -1 }))).toEqual([
      "TrainingError",
      "config",
      "momentum",
      -1,
    ]);
    expect(thrown(() => sgd({ nesterov: true }))).toEqual(["TrainingError", "config"]);
    expect(thrown(() => adam({ betas: [1, 0.9] }))).toEqual([
      "TrainingError",
      "config",
      "betas[0]",
      1,
    ]);
    expect(thrown(() => softmaxCrossEntropy({ labelSmoothing: 2 }))).toEqual([
      "TrainingError",
      "config",
      "labelSmoothing",
      2,
    ]);
    expect(thrown(() => loss(l, y))).toEqual(["TrainingError", "shape"]);
    expect(thrown(() => opt.update(w, s, w, Number.NaN))).toEqual([
      "TrainingError",
      "config",
      "lr",
      Number.NaN,
    ]);
    tf.dispose([l, y, w.a]);
  });
});
