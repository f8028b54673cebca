import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposeWeights, flatten, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  crossEntropy,
  exactHvp,
  finiteDifferenceHvp,
  lossGradient,
  lossSharpness,
  modelSharpness,
  randomDirection,
  topHessianEigenvalue,
} from "../src/index.js";
import { bowlLossTensor, H, pseudoRandom, tensorCount, weightsOf } from "./quadratic.js";

describe("Hessian-vector products on a quadratic bowl", () => {
  it("exact and finite-difference HVPs equal H v (diagonal H known)", () => {
    const at = weightsOf(pseudoRandom(1));
    const vFlat = pseudoRandom(2);
    const v = weightsOf(vFlat);
    const before = tensorCount();
    for (const hvp of [
      exactHvp(bowlLossTensor, at),
      finiteDifferenceHvp((w) => lossGradient(bowlLossTensor, w), at, 1e-2),
    ]) {
      const hv = hvp(v);
      const got = flatten(hv);
      got.forEach((x, i) => {
        const want = H[i]! * vFlat[i]!;
        expect(Math.abs(x - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want)));
      });
      disposeWeights(hv);
    }
    expect(tensorCount()).toBe(before);
    disposeWeights(at);
    disposeWeights(v);
  });
});

describe("topHessianEigenvalue", () => {
  it("finds max h of a diagonal bowl within 1e-4 relative, by both methods", () => {
    const at = weightsOf(pseudoRandom(3));
    const top = Math.max(...H);
    const before = tensorCount();
    const exact = lossSharpness(bowlLossTensor, at, { iterations: 500, tolerance: 1e-7 });
    const fd = lossSharpness(bowlLossTensor, at, {
      method: "finite-difference",
      eps: 1e-2,
      iterations: 500,
      tolerance: 1e-7,
    });
    expect(tensorCount()).toBe(before);
    expect(exact.converged).toBe(true);
    expect(Math.abs(exact.eigenvalue - top) / top).toBeLessThan(1e-4);
    expect(Math.abs(fd.eigenvalue - top) / top).toBeLessThan(1e-3);
    disposeWeights(at);
  });

  it("finds the top eigenvalue of a rotated quadratic 0.5 w^T (Q diag(l) Q^T) w", () => {
    const n = 6;
    const lambdas = [4, 2.5, 1, 0.5, -0.3, 0.1];
    const [q] = tf.tidy(() => tf.linalg.qr(tf.randomNormal([n, n], 0, 1, "float32", 5)));
    const a = tf.tidy(() => tf.matMul(tf.mul(q!, tf.tensor1d(lambdas)), q!, false, true));
    const loss = (w: Weights): tf.Scalar =>
      tf.tidy(() => {
        const x = tf.reshape(w.x!, [n, 1]);
        return tf.mul(0.5, tf.sum(tf.mul(x, tf.matMul(a, x)))) as tf.Scalar;
      });
    const at = { x: tf.tensor1d(pseudoRandom(9, n)) };
    const r = lossSharpness(loss, at, { iterations: 300, tolerance: 1e-8, seed: 2 });
    expect(Math.abs(r.eigenvalue - 4) / 4).toBeLessThan(1e-4);
    // A power iteration follows the largest magnitude: with a dominant negative one it returns it.
    const neg = topHessianEigenvalue(
      (v) => ({ x: tf.mul(v.x!, tf.tensor1d([1, -3, 0.5])) }),
      { x: tf.zeros([3]) },
      { iterations: 300, tolerance: 1e-8 },
    );
    expect(neg.eigenvalue).toBeCloseTo(-3, 4);
    tf.dispose([q!, a, at.x]);
  });
});

/** A ReLU regression net: its loss uses only ops with tfjs second derivatives. */
const reluNet = (): tf.LayersModel => {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      name: "r1",
      units: 6,
      activation: "relu",
      inputShape: [3],
      kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }),
    }),
  );
  m.add(
    tf.layers.dense({
      name: "r2",
      units: 2,
      kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }),
    }),
  );
  return m;
};

describe("modelSharpness", () => {
  const x = tf.randomNormal([32, 3], 0, 1, "float32", 1);
  const y = tf.randomNormal([32, 2], 0, 1, "float32", 2);
  const mse = (m: tf.LayersModel): tf.Scalar =>
    tf.tidy(() => tf.mean(tf.square(tf.sub(m.apply(x) as tf.Tensor, y))) as tf.Scalar);

  it("agrees between exact and finite-difference HVPs on a ReLU net, restoring weights", () => {
    const model = reluNet();
    const w = fromModel(model);
    const flatBefore = Array.from(flatten(w));
    const before = tensorCount();
    const exact = orThrow(
      modelSharpness(model, w, mse, { method: "exact", iterations: 200, tolerance: 1e-6 }),
    );
    const fd = orThrow(
      modelSharpness(model, w, mse, {
        method: "finite-difference",
        iterations: 200,
        tolerance: 1e-6,
      }),
    );
    expect(tensorCount()).toBe(before);
    expect(exact.eigenvalue).toBeGreaterThan(0);
    expect(Math.abs(exact.eigenvalue - fd.eigenvalue) / exact.eigenvalue).toBeLessThan(1e-2);
    const after = fromModel(model);
    expect(Array.from(flatten(after))).toEqual(flatBefore);
    disposeWeights(after);
    disposeWeights(w);
    model.dispose();
  });

  it("refuses exact HVPs through softmax (no tfjs second derivative) and works by finite differences", () => {
    const m = tf.sequential();
    m.add(
      tf.layers.dense({
        name: "s1",
        units: 5,
        activation: "tanh",
        inputShape: [3],
        kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }),
      }),
    );
    m.add(
      tf.layers.dense({
        name: "s2",
        units: 3,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotNormal({ seed: 6 }),
      }),
    );
    const labels = tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 3),
      "int32",
    );
    const ce = (model: tf.LayersModel) => crossEntropy(model, x, labels);
    const w = fromModel(m);
    const before = tensorCount();
    const exact = modelSharpness(m, w, ce, { method: "exact" });
    expect(E.isLeft(exact) && exact.left.kind).toBe("degenerate");
    expect(E.isLeft(exact) && exact.left.message).toMatch(/finite-difference/);
    const fd = orThrow(modelSharpness(m, w, ce, { iterations: 100, tolerance: 1e-5 }));
    expect(fd.eigenvalue).toBeGreaterThan(0);
    // Oracle: the Rayleigh quotient along a random unit direction never exceeds the top eigenvalue
    // (Hessian PSD-dominated here); second differences of the loss give it independently.
    const d = randomDirection(w, 9);
    const lossAt = (s: number): number => {
      const p: Record<string, tf.Tensor> = {};
      for (const k of Object.keys(w)) p[k] = tf.tidy(() => tf.add(w[k]!, tf.mul(d[k]!, s)));
      const r = modelSharpnessLoss(m, p, ce);
      disposeWeights(p);
      return r;
    };
    const h = 1e-2;
    const curv = (lossAt(h) - 2 * lossAt(0) + lossAt(-h)) / (h * h);
    expect(curv).toBeLessThanOrEqual(fd.eigenvalue * 1.05);
    disposeWeights(d);
    expect(tensorCount()).toBe(before);
    disposeWeights(w);
    labels.dispose();
    m.dispose();
  });
});

/** The loss of `model` at weights `p` (assigned, then restored), as a number. */
const modelSharpnessLoss = (
  model: tf.LayersModel,
  p: Weights,
  loss: (m: tf.LayersModel) => tf.Scalar,
): number => {
  const saved = model.getWeights().map((t) => t.clone());
  model.trainableWeights.forEach((lw) => {
    lw.write(p[lw.originalName]!);
  });
  const s = loss(model);
  const v = s.dataSync()[0]!;
  s.dispose();
  model.setWeights(saved);
  tf.dispose(saved);
  return v;
};

describe("tfjs second derivatives (the support documented in src/sharpness.ts)", () => {
  const x = tf.tensor1d([0.5, -1, 2]);
  const v = tf.tensor1d([1, 2, 3]);
  /** Max abs difference between the nested-gradient HVP and a central difference, or "throws". */
  const check = (f: (x: tf.Tensor) => tf.Scalar): number | "throws" => {
    try {
      return tf.tidy(() => {
        const h = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(y), v)) as tf.Scalar)(x);
        const eps = 1e-3;
        const fd = tf.div(
          tf.sub(tf.grad(f)(tf.add(x, tf.mul(v, eps))), tf.grad(f)(tf.sub(x, tf.mul(v, eps)))),
          2 * eps,
        );
        return tf.max(tf.abs(tf.sub(h, fd))).dataSync()[0]!;
      });
    } catch {
      return "throws";
    }
  };
  const s = (t: tf.Tensor) => tf.sum(t) as tf.Scalar;
  it("works through matMul, div, pow, relu, maximum, log", () => {
    const m = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const ok: ((x: tf.Tensor) => tf.Scalar)[] = [
      (x) => s(tf.square(tf.matMul(tf.reshape(x, [1, 3]), m))),
      (x) => s(tf.div(tf.square(x), tf.add(tf.square(x), 1))),
      (x) => s(tf.pow(x, 3)),
      (x) => s(tf.square(tf.relu(x))),
      (x) => s(tf.square(tf.maximum(x, 0.1))),
      (x) => s(tf.log(tf.add(tf.square(x), 1))),
    ];
    for (const f of ok) expect(check(f)).toBeLessThan(1e-2);
    m.dispose();
  });
  it("fails through exp, tanh, softmax, logSoftmax, minimum, clipByValue, logSumExp; drops terms silently", () => {
    const bad: ((x: tf.Tensor) => tf.Scalar)[] = [
      (x) => s(tf.exp(x)),
      (x) => s(tf.tanh(x)),
      (x) => s(tf.softmax(x)),
      (x) => s(tf.logSoftmax(x)),
      (x) => s(tf.square(tf.minimum(x, 0.1))),
      (x) => s(tf.square(tf.clipByValue(x, -0.7, 1.5))),
      (x) => tf.logSumExp(x) as tf.Scalar,
    ];
    for (const f of bad) expect(check(f)).toBe("throws");
    const mixed = check((x) => tf.add(s(tf.tanh(x)), s(tf.pow(x, 3))) as tf.Scalar);
    expect(mixed === "throws" ? 0 : mixed).toBeGreaterThan(0.1);
  });
});
