import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { updateBatchNorm } from "@wider/averaging";
import { orThrow } from "@wider/errors";
import { assignToModel, disposeWeights, flatten, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  evaluatePlanWith,
  lossAndError,
  type Progress,
  planeThrough,
  pointWeights,
  rayFrom,
  segment,
} from "../src/index.js";
import { bowlLoss, H, lossOf, N, pseudoRandom, tensorCount, weightsOf } from "./quadratic.js";

/** All of a model's weights as one flat array (the temporary copies are freed). */
const modelFlat = (m: tf.LayersModel): number[] => {
  const w = fromModel(m, { include: "all" });
  const f = Array.from(flatten(w));
  disposeWeights(w);
  return f;
};

const tempFile = async (name: string) =>
  join(await mkdtemp(join(tmpdir(), "wider-geometry-")), name);

describe("evaluatePlanWith on a quadratic bowl", () => {
  it("gives the closed-form loss along a ray and a segment (beyond [0, 1])", async () => {
    const cFlat = pseudoRandom(11);
    const dFlat = pseudoRandom(12);
    const c = weightsOf(cFlat);
    const d = weightsOf(dFlat);
    // L(c + t d) = L(c) + t (H c) . d + t^2 / 2 d^T H d
    let g = 0;
    let k = 0;
    for (let i = 0; i < N; i++) {
      g += H[i]! * cFlat[i]! * dFlat[i]!;
      k += H[i]! * dFlat[i]! ** 2;
    }
    const before = tensorCount();
    const ray = orThrow(rayFrom(c, d, [-1, -0.25, 0, 0.5, 2]));
    const r = orThrow(await evaluatePlanWith(ray, (w) => ({ loss: bowlLoss(w) })));
    expect(r.complete).toBe(true);
    for (const p of r.results) {
      const t = (p as { t: number }).t;
      const want = lossOf(cFlat) + t * g + 0.5 * t * t * k;
      expect(Math.abs(p.metrics.loss! - want) / want).toBeLessThan(1e-5);
    }
    const seg = orThrow(segment(c, d, [-0.5, 0, 0.3, 1, 1.5]));
    const s = orThrow(await evaluatePlanWith(seg, (w) => ({ loss: bowlLoss(w) })));
    for (const p of s.results) {
      const t = (p as { t: number }).t;
      const flat = cFlat.map((x, i) => (1 - t) * x + t * dFlat[i]!);
      expect(Math.abs(p.metrics.loss! - lossOf(flat)) / lossOf(flat)).toBeLessThan(1e-5);
    }
    expect((s.results[0] as { distance: number }).distance).toBeCloseTo(-0.5 * seg.length, 9);
    disposePlan(ray);
    disposePlan(seg);
    expect(tensorCount()).toBe(before);
    disposeWeights(c);
    disposeWeights(d);
  });

  it("resumes an interrupted run from its file and refuses a file of another plan", async () => {
    const w1 = weightsOf(pseudoRandom(1));
    const w2 = weightsOf(pseudoRandom(2));
    const w3 = weightsOf(pseudoRandom(3));
    const plan = orThrow(planeThrough(w1, w2, w3, { grid: 4 }));
    const file = await tempFile("plane.json");
    const before = tensorCount();
    let calls = 0;
    const failing = async (w: Weights) => {
      calls++;
      if (calls === 6) throw new Error("interrupted");
      return { loss: bowlLoss(w), nan: Number.NaN };
    };
    await expect(evaluatePlanWith(plan, failing, { resume: { file } })).rejects.toThrow(
      "interrupted",
    );
    const partial = JSON.parse(await readFile(file, "utf8"));
    expect(partial.results).toHaveLength(5);
    expect(partial.complete).toBe(false);
    expect(partial.results[0].metrics.nan).toBeNull();
    const seen: Progress[] = [];
    let resumedCalls = 0;
    const resumed = orThrow(
      await evaluatePlanWith(
        plan,
        (w) => {
          resumedCalls++;
          return { loss: bowlLoss(w), nan: Number.NaN };
        },
        { resume: { file }, onProgress: (p) => seen.push(p) },
      ),
    );
    expect(resumedCalls).toBe(11);
    expect(seen[0]).toMatchObject({ done: 5, total: 16, point: null, resumed: 5 });
    expect(seen.at(-1)).toMatchObject({ done: 16, total: 16, resumed: 5 });
    const fresh = orThrow(
      await evaluatePlanWith(plan, (w) => ({ loss: bowlLoss(w), nan: Number.NaN })),
    );
    expect(resumed).toEqual(fresh);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual(JSON.parse(JSON.stringify(fresh)));
    expect(tensorCount()).toBe(before);

    const other = orThrow(planeThrough(w1, w3, w2, { grid: 4 }));
    const refused = await evaluatePlanWith(other, (w) => ({ loss: bowlLoss(w) }), {
      resume: { file },
    });
    expect(E.isLeft(refused) && refused.left.kind).toBe("conflict");
    expect(E.isLeft(refused) && refused.left.message).toMatch(/different plan.*delete it/);
    await writeFile(file, "{ not json");
    const corrupt = await evaluatePlanWith(plan, (w) => ({ loss: bowlLoss(w) }), {
      resume: { file },
    });
    expect(E.isLeft(corrupt) && corrupt.left.kind).toBe("corrupt");
    await writeFile(file, JSON.stringify({ format: "something else" }));
    const foreign = await evaluatePlanWith(plan, (w) => ({ loss: bowlLoss(w) }), {
      resume: { file },
    });
    expect(E.isLeft(foreign) && foreign.left.message).toMatch(/not a wider-geometry result file/);
    for (const p of [plan, other]) disposePlan(p);
    for (const w of [w1, w2, w3]) disposeWeights(w);
  });
});

/** A tiny classifier with explicit layer names, so weight keys match across instances. */
const tinyModel = (seed: number): tf.LayersModel => {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      name: "h",
      units: 5,
      activation: "relu",
      inputShape: [4],
      kernelInitializer: tf.initializers.glorotNormal({ seed }),
    }),
  );
  m.add(
    tf.layers.dense({
      name: "out",
      units: 3,
      activation: "softmax",
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }),
    }),
  );
  return m;
};

const data = () => {
  const x = tf.randomNormal([40, 4], 0, 1, "float32", 7);
  const y = tf.tensor1d(
    Array.from({ length: 40 }, (_, i) => i % 3),
    "int32",
  );
  return { x, y };
};

describe("lossAndError", () => {
  it("matches cross-entropy and error computed in JS from the predictions, for labels and one-hot", async () => {
    const model = tinyModel(1);
    const { x, y } = data();
    const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    const labels = y.arraySync() as number[];
    let nll = 0;
    let wrong = 0;
    probs.forEach((p, i) => {
      nll -= Math.log(Math.max(p[labels[i]!]!, 1e-7));
      if (p.indexOf(Math.max(...p)) !== labels[i]) wrong++;
    });
    const before = tensorCount();
    const r = await lossAndError(model, x, y, 16);
    expect(tensorCount()).toBe(before);
    expect(r.loss).toBeCloseTo(nll / 40, 5);
    expect(r.error).toBeCloseTo(wrong / 40, 12);
    const oneHot = tf.oneHot(y, 3);
    const r2 = await lossAndError(model, x, oneHot, 7);
    expect(r2.loss).toBeCloseTo(r.loss, 5);
    expect(r2.error).toBe(r.error);
    tf.dispose([x, y, oneHot]);
    model.dispose();
  });
});

describe("evaluatePlan on a tfjs model", () => {
  it("evaluates a plane of a tiny model, restores its weights and leaks no tensor", async () => {
    const models = [tinyModel(1), tinyModel(10), tinyModel(20)];
    const [w1, w2, w3] = models.map((m) => fromModel(m)) as [Weights, Weights, Weights];
    const model = models[0]!;
    const original = modelFlat(model);
    const { x, y } = data();
    const plan = orThrow(planeThrough(w1, w2, w3, { grid: 3 }));
    const evaluate = evaluateClassifier({ train: { x, y } }, { batchSize: 16 });
    const file = await tempFile("model-plane.json");
    const before = tensorCount();
    const progress: number[] = [];
    const r = orThrow(
      await evaluatePlan(plan, {
        model,
        evaluate,
        resume: { file },
        onProgress: (p) => progress.push(p.done),
      }),
    );
    expect(tensorCount()).toBe(before);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(modelFlat(model)).toEqual(original);
    // Oracle: assign a point by hand to a second instance and evaluate it directly.
    const probe = models[1]!;
    for (const i of [0, 4, 8]) {
      const w = pointWeights(plan, i);
      orThrow(assignToModel(probe, w));
      disposeWeights(w);
      const direct = await lossAndError(probe, x, y, 40);
      expect(r.results[i]!.metrics.trainLoss).toBeCloseTo(direct.loss, 5);
      expect(r.results[i]!.metrics.trainError).toBe(direct.error);
    }
    expect(r.plan.kind).toBe("plane");
    tf.dispose([x, y]);
    disposePlan(plan);
    for (const w of [w1, w2, w3]) disposeWeights(w);
    for (const m of models) m.dispose();
  });

  it("returns a Left when the plan's weights do not fit the model, and restores it", async () => {
    const model = tinyModel(1);
    const other = tf.sequential();
    other.add(tf.layers.dense({ name: "h", units: 6, inputShape: [4] }));
    const w = fromModel(other);
    const d = fromModel(other);
    const plan = orThrow(rayFrom(w, d, [0, 1]));
    const before = modelFlat(model);
    const r = await evaluatePlan(plan, { model, evaluate: async () => ({ loss: 0 }) });
    expect(E.isLeft(r) && r.left.kind).toBe("shape");
    expect(modelFlat(model)).toEqual(before);
    disposePlan(plan);
    disposeWeights(w);
    disposeWeights(d);
    model.dispose();
    other.dispose();
  });

  it("re-estimates BatchNorm at each point (updateBatchNorm) and restores the moving statistics", async () => {
    const bnModel = (seed: number) => {
      const m = tf.sequential();
      m.add(
        tf.layers.dense({
          name: "d",
          units: 6,
          inputShape: [4],
          kernelInitializer: tf.initializers.glorotNormal({ seed }),
        }),
      );
      m.add(tf.layers.batchNormalization({ name: "bn" }));
      m.add(tf.layers.activation({ activation: "relu" }));
      m.add(
        tf.layers.dense({
          name: "o",
          units: 3,
          activation: "softmax",
          kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }),
        }),
      );
      return m;
    };
    const model = bnModel(1);
    const probe = bnModel(2);
    const { x, y } = data();
    const batches = [tf.slice(x, 0, 20), tf.slice(x, 20, 20)];
    const a = fromModel(model);
    const b = fromModel(probe);
    const plan = orThrow(segment(a, b, [0, 0.5, 1.5]));
    const original = modelFlat(model);
    const before = tensorCount();
    const r = orThrow(
      await evaluatePlan(plan, {
        model,
        evaluate: evaluateClassifier({ train: { x, y } }),
        bnBatches: () => batches,
      }),
    );
    expect(tensorCount()).toBe(before);
    expect(modelFlat(model)).toEqual(original);
    for (const i of [1, 2]) {
      const w = pointWeights(plan, i);
      orThrow(assignToModel(probe, w));
      disposeWeights(w);
      await updateBatchNorm(probe, batches);
      const direct = await lossAndError(probe, x, y);
      expect(r.results[i]!.metrics.trainLoss).toBeCloseTo(direct.loss, 5);
    }
    // Without re-estimation the loss differs (the moving statistics are the initial ones).
    const plain = orThrow(
      await evaluatePlan(plan, { model, evaluate: evaluateClassifier({ train: { x, y } }) }),
    );
    expect(
      Math.abs(plain.results[1]!.metrics.trainLoss! - r.results[1]!.metrics.trainLoss!),
    ).toBeGreaterThan(1e-3);
    tf.dispose([x, y, ...batches]);
    disposePlan(plan);
    disposeWeights(a);
    disposeWeights(b);
    model.dispose();
    probe.dispose();
  });
});
