import * as tf from "@tensorflow/tfjs";
import type { ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import { adam, disposeOptState, initLoop, sgd, softmaxCrossEntropy } from "@wider/training";
import { beforeAll, describe, expect, it } from "vitest";
import { parallelRunner, shardOf } from "../src/index.js";
import { nodeTransport } from "../src/node.js";
import { batchesFor, build, expectClose, reference, weightsOf } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

describe("shardOf: the replicas' shares of the flat weights", () => {
  it("covers [0, total) contiguously, starts on multiples of 16, shares within 16 of total / workers", () => {
    for (const workers of [1, 2, 3, 4, 7])
      for (const total of [0, 1, 15, 16, 17, 100, 1000, 4097, 535_818]) {
        let end = 0;
        for (let i = 0; i < workers; i++) {
          const [lo, hi] = shardOf(i, workers, total);
          expect(lo, `${workers}/${total}/${i}`).toBe(end);
          expect(lo % 16).toBe(0);
          expect(hi).toBeGreaterThanOrEqual(lo);
          expect(Math.abs(hi - lo - total / workers)).toBeLessThanOrEqual(16);
          end = hi;
        }
        expect(end).toBe(total);
      }
  });
});

describe("3 replicas, each updating its shard of the weights", () => {
  it("Adam over two runSteps calls (the slots go through shared memory between them) agrees with 12 single-thread steps to 1e-5 relative", async () => {
    const spec: ModelSpec = { kind: "mlp", hidden: [24, 12], inputShape: [6, 6, 1], seed: 9 };
    const shape = [6, 6, 1];
    const LR = 0.01;
    const runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 3,
      backend: "cpu",
      model: { spec },
      optimizer: { kind: "adam" },
      hashEvery: 3,
    });
    try {
      const want = await reference(spec, adam(), batchesFor(shape, 25), 12, LR);
      const model = build(spec);
      const base = {
        model,
        optimizer: adam(),
        loss: softmaxCrossEntropy(),
        schedule: constant(LR),
        batches: batchesFor(shape, 25),
      };
      const half = await runner.runSteps({ ...base, state: initLoop(model, adam()), to: 6 });
      expect(half.state.opt.count).toBe(6);
      const whole = await runner.runSteps({ ...base, state: half.state, to: 12 });
      expect(whole.state.opt.count).toBe(12);
      const worst = expectClose(weightsOf(model), want, 1e-5);
      console.log(
        `adam, 3 replicas, 6 + 6 steps: worst relative difference ${worst.toExponential(2)}`,
      );
      // The slots the main thread got back are Adam's moments: nonzero, finite, shaped like the weights.
      for (const slot of ["mu", "nu"]) {
        const ws = whole.state.opt.slots[slot]!;
        for (const v of model.trainableWeights) {
          const t = ws[v.originalName]!;
          expect(t.shape).toEqual(v.shape);
          const d = t.dataSync();
          expect(d.every(Number.isFinite)).toBe(true);
          expect(d.some((x) => x !== 0)).toBe(true);
        }
      }
      disposeOptState(whole.state.opt);
      model.dispose();
    } finally {
      await runner.close();
    }
  });

  it("a BatchNorm model whose last shard holds both trainable weights and moving statistics: replicas bit-identical, moving mean = the full-batch one", async () => {
    const spec: ModelSpec = {
      kind: "cnn",
      filters: [4, 8],
      dense: 16,
      inputShape: [12, 12, 1],
      seed: 5,
      batchNorm: true,
    };
    const model = build(spec);
    const size = (vs: readonly tf.LayerVariable[]) =>
      vs.reduce((a, v) => a + (v.shape as number[]).reduce((p, q) => p * q, 1), 0);
    const trainable = size(model.trainableWeights);
    const total = trainable + size(model.nonTrainableWeights);
    const [lo, hi] = shardOf(2, 3, total);
    // The case under test: one shard straddles the trainable / non-trainable boundary.
    expect(lo).toBeLessThan(trainable);
    expect(hi).toBeGreaterThan(trainable);
    const runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 3,
      backend: "cpu",
      model: { spec },
      optimizer: { kind: "sgd", momentum: 0.9 },
      hashEvery: 1,
    });
    try {
      const batches = batchesFor([12, 12, 1], 15);
      const r = await runner.runSteps({
        model,
        optimizer: sgd({ momentum: 0.9 }),
        loss: softmaxCrossEntropy(),
        schedule: constant(0.05),
        batches,
        state: initLoop(model, sgd({ momentum: 0.9 })),
        to: 3,
      });
      disposeOptState(r.state.opt);
      // After one step the first BN layer's moving mean is the full batch's (equal slices of 5): the
      // average of the replicas' updates. Later layers and steps differ (each replica normalizes
      // with its slice's statistics).
      const one = build(spec);
      const r1 = await runner.runSteps({
        model: one,
        optimizer: sgd({ momentum: 0.9 }),
        loss: softmaxCrossEntropy(),
        schedule: constant(0.05),
        batches,
        state: initLoop(one, sgd({ momentum: 0.9 })),
        to: 1,
      });
      disposeOptState(r1.state.opt);
      const full = await reference(spec, sgd({ momentum: 0.9 }), batches, 1, 0.05);
      const got = weightsOf(one);
      expectClose({ m: got["bn1/moving_mean"]! }, { m: full["bn1/moving_mean"]! }, 1e-5);
      // Every weight moved on from its initial value in the 3-step run, moving statistics included.
      const init = weightsOf(build(spec));
      const after = weightsOf(model);
      for (const k of Object.keys(init))
        expect(
          init[k]!.some((v, i) => v !== after[k]![i]),
          k,
        ).toBe(true);
      one.dispose();
    } finally {
      await runner.close();
      model.dispose();
    }
  });
});
