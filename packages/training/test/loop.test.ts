import * as tf from "@tensorflow/tfjs";
import { swa } from "@wider/averaging";
import { disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  branch,
  collect,
  disposeOptState,
  disposeTrainingState,
  type EpochInfo,
  type Hook,
  initLoop,
  type LoopState,
  readsModelAfter,
  restore,
  runSteps,
  sgd,
  softmaxCrossEntropy,
  stateTensors,
  trainStep,
} from "../src/index.js";
import { batchOf, buildClassifier, expectBitIdentical } from "./helpers.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const optimizer = sgd({ momentum: 0.9, weightDecay: 5e-4 });
const loss = softmaxCrossEntropy();
const rate = (s: number) => 0.05 / (1 + 0.1 * s);

const run = async (model: tf.LayersModel, state: LoopState, to: number, schedule = rate) =>
  (await runSteps({ model, optimizer, loss, schedule, batches: (s) => batchOf(s), state, to }))
    .state;

const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

describe("runSteps", () => {
  it("one global counter: batches, the rate and every hook see the same step", async () => {
    const model = buildClassifier();
    const start = initLoop(model, optimizer);
    const seen: Array<{ step: number; lr: number }> = [];
    const asked: number[] = [];
    const epochs: EpochInfo[] = [];
    const r = await runSteps({
      model,
      optimizer,
      loss,
      schedule: rate,
      batches: async (s) => {
        asked.push(s);
        return batchOf(s);
      },
      state: { step: 3, opt: start.opt },
      to: 10,
      stepsPerEpoch: 4,
      hooks: [
        {
          onStep: ({ step, lr, state }) => {
            seen.push({ step, lr });
            expect(state.step).toBe(step + 1);
          },
        },
        { onEpoch: (i) => void epochs.push(i) },
      ],
    });
    expect(asked).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(seen).toEqual(asked.map((step) => ({ step, lr: rate(step) })));
    expect(epochs.map((e) => [e.epoch, e.step, e.steps])).toEqual([
      [0, 3, 1],
      [1, 7, 4],
    ]);
    expect(r.aborted).toBe(false);
    expect(r.state.step).toBe(10);
    expect(r.state.opt.count).toBe(7);
    disposeOptState(r.state.opt);
    model.dispose();
  });

  it("collect(swa) at policy steps equals a hand-written loop with the same averager, and leaks nothing", async () => {
    const policy = (s: number) => s >= 4 && s % 3 === 0;
    const avg = swa();
    // Hand-written reference.
    const m1 = buildClassifier();
    const step = trainStep(m1, loss, optimizer);
    let opt = initLoop(m1, optimizer).opt;
    let ref = avg.init();
    for (let s = 0; s < 20; s++) {
      const { x, y } = batchOf(s);
      opt = step(opt, x, y, rate(s)).state;
      tf.dispose([x, y]);
      if (policy(s)) {
        const w = fromModel(m1, { include: "all" });
        ref = avg.update(ref, w);
        disposeWeights(w);
      }
    }
    // The loop with a collector hook.
    const m2 = buildClassifier();
    const before = tf.memory().numTensors;
    const hook = collect({ state: avg.init(), update: avg.update, policy });
    const r = await runSteps({
      model: m2,
      optimizer,
      loss,
      schedule: rate,
      batches: (s) => batchOf(s),
      state: initLoop(m2, optimizer),
      to: 20,
      hooks: [hook],
    });
    expect(hook.state.n).toBe(ref.n);
    expect(hook.state.n).toBe(5);
    // It tells loops that keep the model elsewhere when it reads it: at the policy's steps.
    for (let s = 0; s < 20; s++) expect(hook.readsModel?.(s)).toBe(policy(s));
    expectBitIdentical(Object.entries(hook.state.mean!), Object.entries(ref.mean!));
    disposeWeights(hook.state.mean!);
    disposeOptState(r.state.opt);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(ref.mean!);
    disposeOptState(opt);
    m1.dispose();
    m2.dispose();
  });

  it("stops between steps when the signal is aborted, returning the state reached", async () => {
    const model = buildClassifier();
    const ctl = new AbortController();
    const r = await runSteps({
      model,
      optimizer,
      loss,
      schedule: rate,
      batches: (s) => batchOf(s),
      state: initLoop(model, optimizer),
      to: 50,
      signal: ctl.signal,
      hooks: [{ onStep: ({ step }) => (step === 5 ? ctl.abort() : undefined) }],
    });
    expect(r).toMatchObject({ aborted: true, state: { step: 6 } });
    expect(r.state.opt.count).toBe(6);
    disposeOptState(r.state.opt);
    model.dispose();
  });

  it("a throwing hook frees the loop's state and rethrows; bad options are clear errors", async () => {
    const model = buildClassifier();
    const before = tf.memory().numTensors;
    const boom = runSteps({
      model,
      optimizer,
      loss,
      schedule: rate,
      batches: (s) => batchOf(s),
      state: initLoop(model, optimizer),
      to: 10,
      hooks: [
        {
          onStep: ({ step }) => {
            if (step === 2) throw new Error("boom");
          },
        },
      ],
    });
    await expect(boom).rejects.toThrow("boom");
    expect(tf.memory().numTensors).toBe(before);
    const s = initLoop(model, optimizer);
    await expect(
      runSteps({
        model,
        optimizer,
        loss,
        schedule: rate,
        batches: (t) => batchOf(t),
        state: { ...s, step: 5 },
        to: 3,
      }),
    ).rejects.toThrow(/to was 3; pass an integer >= state.step \(5\)/);
    disposeOptState(s.opt);
    model.dispose();
  });
});

describe("readsModelAfter", () => {
  it("holds after a step where an onStep without readsModel, an onStep whose readsModel holds, or an onEpoch at an epoch end reads the model", () => {
    const quiet: Hook = { onStep: () => {}, readsModel: () => false };
    const odd: Hook = { onStep: () => {}, readsModel: (s) => s % 2 === 1 };
    const epoch: Hook = { onEpoch: () => {} };
    const plain: Hook = { onStep: () => {} };
    const steps = [0, 1, 2, 3, 4, 5];
    expect(steps.map(readsModelAfter([], 3))).toEqual([false, false, false, false, false, false]);
    expect(steps.map(readsModelAfter([quiet], 3))).toEqual(steps.map(() => false));
    expect(steps.map(readsModelAfter([quiet, odd], 3))).toEqual(steps.map((s) => s % 2 === 1));
    expect(steps.map(readsModelAfter([quiet, epoch], 3))).toEqual(steps.map((s) => s % 3 === 2));
    expect(steps.map(readsModelAfter([quiet, epoch], undefined))).toEqual(steps.map(() => false));
    expect(steps.map(readsModelAfter([quiet, plain], 3))).toEqual(steps.map(() => true));
  });
});

describe("branch", () => {
  it("two branches from one state continue independently, and a branch continued equals an uninterrupted run", async () => {
    // Uninterrupted: 0 -> 12.
    const m0 = buildClassifier();
    const full = await run(m0, initLoop(m0, optimizer), 12);
    const fullState = branch(m0, full);
    disposeOptState(full.opt);

    // Pretrain 0 -> 6, branch, then two continuations with different schedules.
    const model = buildClassifier();
    const pre = await run(model, initLoop(model, optimizer), 6);
    const point = branch(model, pre);
    disposeOptState(pre.opt);

    const a = await run(model, must(restore(model, point)), 12);
    const aState = branch(model, a);
    disposeOptState(a.opt);
    const b = await run(model, must(restore(model, point)), 12, () => 0.2);
    const bState = branch(model, b);
    disposeOptState(b.opt);

    expect(point.step).toBe(6);
    expect(point.opt.count).toBe(6);
    expectBitIdentical(stateTensors(aState), stateTensors(fullState));
    // B really diverged, and running B did not disturb the stored branch point.
    const wa = aState.weights["hidden/kernel"]!.dataSync();
    const wb = bState.weights["hidden/kernel"]!.dataSync();
    expect(Array.from(wa)).not.toEqual(Array.from(wb));
    const again = await run(model, must(restore(model, point)), 12);
    const againState = branch(model, again);
    disposeOptState(again.opt);
    expectBitIdentical(stateTensors(againState), stateTensors(aState));

    for (const s of [fullState, point, aState, bState, againState]) disposeTrainingState(s);
    m0.dispose();
    model.dispose();
  });

  it("restore into a model with other layer names is a Left naming the variable", () => {
    const model = buildClassifier();
    const s = initLoop(model, optimizer);
    const point = branch(model, s);
    const other = tf.sequential({
      layers: [tf.layers.dense({ units: 3, inputShape: [6], name: "x" })],
    });
    const r = restore(other, point);
    expect(E.isLeft(r) && r.left.kind === "shape" && /hidden\/kernel/.test(r.left.message)).toBe(
      true,
    );
    disposeTrainingState(point);
    disposeOptState(s.opt);
    model.dispose();
    other.dispose();
  });
});
