import * as tf from "@tensorflow/tfjs";
import type { ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import { disposeOptState, initLoop, sgd, softmaxCrossEntropy } from "@wider/training";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ParallelRunner, parallelRunner } from "../src/index.js";
import { nodeTransport } from "../src/node.js";
import { batchesFor, build, expectClose, reference, weightsOf } from "./helpers.js";

const LR = 0.05;
const STEPS = 20;
const opt = { kind: "sgd", momentum: 0.9 } as const;

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

/** Trains `spec` for `steps` on 2 cpu replicas; returns the main model's weights after. */
const trainParallel = async (
  runner: ParallelRunner,
  spec: ModelSpec,
  shape: readonly number[],
  rows: number,
  steps: number,
) => {
  const model = build(spec);
  const optimizer = sgd({ momentum: 0.9 });
  const before = tf.memory().numTensors;
  const r = await runner.runSteps({
    model,
    optimizer,
    loss: softmaxCrossEntropy(),
    schedule: constant(LR),
    batches: batchesFor(shape, rows),
    state: initLoop(model, optimizer),
    to: steps,
  });
  expect(r.state.step).toBe(steps);
  expect(r.state.opt.count).toBe(steps);
  const w = weightsOf(model);
  disposeOptState(r.state.opt);
  model.dispose();
  return { w, before };
};

describe.each([
  {
    name: "mlp",
    spec: { kind: "mlp", hidden: [32, 16], inputShape: [6, 6, 1], seed: 3 },
    shape: [6, 6, 1],
  },
  {
    name: "cnn",
    spec: { kind: "cnn", filters: [4, 8], dense: 16, inputShape: [12, 12, 1], seed: 5 },
    shape: [12, 12, 1],
  },
] as const)("$name: 2 replicas vs single-thread full-batch training (cpu)", ({ spec, shape }) => {
  let runner: ParallelRunner;
  beforeAll(async () => {
    runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 2,
      backend: "cpu",
      model: { spec },
      optimizer: opt,
      hashEvery: 5,
    });
  });
  afterAll(() => runner.close());

  it("weights after 20 SGD-momentum steps agree to 1e-5 relative (odd batch: slices 12 + 13)", async () => {
    const want = await reference(spec, sgd({ momentum: 0.9 }), batchesFor(shape, 25), STEPS, LR);
    const { w } = await trainParallel(runner, spec, shape, 25, STEPS);
    const worst = expectClose(w, want, 1e-5);
    console.log(
      `${spec.kind}: worst relative difference after ${STEPS} steps ${worst.toExponential(2)}`,
    );
    // And the weights did move: the comparison is not of two initial states.
    const init = weightsOf(build(spec));
    expect(Object.keys(init).some((k) => init[k]!.some((v, i) => v !== w[k]![i]))).toBe(true);
  });

  it("no tensor growth over many steps, in the main thread and in every replica", async () => {
    await trainParallel(runner, spec, shape, 16, 5);
    const workers0 = [...runner.workerTensors()];
    const mainBefore = tf.memory().numTensors;
    await trainParallel(runner, spec, shape, 16, 40);
    expect(runner.workerTensors()).toEqual(workers0);
    expect(tf.memory().numTensors).toBe(mainBefore);
  });
});

describe("wasm replicas (@wider/backend kernels)", () => {
  it("a CNN on 2 wasm replicas agrees with single-thread cpu training to 1e-5 relative after 10 steps, replicas bit-identical", async () => {
    const spec: ModelSpec = {
      kind: "cnn",
      filters: [4, 8],
      dense: 16,
      inputShape: [12, 12, 1],
      seed: 7,
    };
    const runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 2,
      backend: "wasm",
      model: { spec },
      optimizer: opt,
      hashEvery: 2,
    });
    try {
      const want = await reference(
        spec,
        sgd({ momentum: 0.9 }),
        batchesFor([12, 12, 1], 16),
        10,
        LR,
      );
      const { w } = await trainParallel(runner, spec, [12, 12, 1], 16, 10);
      const worst = expectClose(w, want, 1e-5);
      console.log(
        `wasm cnn: worst relative difference to cpu after 10 steps ${worst.toExponential(2)}`,
      );
    } finally {
      await runner.close();
    }
  });
});

describe("a model given as model.toJSON() (weights come from the main model)", () => {
  it("trains like the single-thread run, to 1e-5 relative after 5 steps", async () => {
    const spec: ModelSpec = { kind: "mlp", hidden: [16], inputShape: [5, 5, 1], seed: 11 };
    const main = build(spec);
    const runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 2,
      backend: "cpu",
      model: { json: main.toJSON(null, false) as object },
      optimizer: opt,
    });
    main.dispose();
    try {
      const want = await reference(spec, sgd({ momentum: 0.9 }), batchesFor([5, 5, 1], 10), 5, LR);
      const { w } = await trainParallel(runner, spec, [5, 5, 1], 10, 5);
      expectClose(w, want, 1e-5);
    } finally {
      await runner.close();
    }
  });
});
