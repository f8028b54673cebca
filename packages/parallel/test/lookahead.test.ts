/**
 * Without hooks the runner posts step s + 1 before it awaits step s, and copies the state out once
 * at the end (the replicas write their optimizer slots when the run ends); with hooks it copies
 * the state out after every step and posts the next after the hooks. These tests hold both to
 * `runSteps`' contract: the hooks see every step's state as single-thread training's do, a signal
 * stops the run at the step boundary `runSteps` stops at, and the state returned resumes to the
 * weights of an uninterrupted run.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import {
  type Batches,
  disposeOptState,
  type Hook,
  initLoop,
  type LoopState,
  type RunResult,
  type RunStepsOptions,
  runSteps,
  sgd,
  softmaxCrossEntropy,
} from "@wider/training";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ParallelRunner, parallelRunner } from "../src/index.js";
import { nodeTransport } from "../src/node.js";
import { batchesFor, build, expectClose, slotOf, weightsOf } from "./helpers.js";

const spec: ModelSpec = { kind: "mlp", hidden: [16], inputShape: [5, 5, 1], seed: 11 };
const LR = 0.05;
const STEPS = 12;

type Run = (o: RunStepsOptions) => Promise<RunResult>;

/**
 * Trains a fresh model with `run` from `state` (or a fresh state) to `to`; records what the hooks
 * saw after each step (the step, the state's step and count, the model's weights) and which
 * batches were asked for.
 */
const train = async (
  run: Run,
  options: {
    to: number;
    stopAfterHookOf?: number;
    abortInSchedule?: number;
    hooks?: boolean;
    /** The hook's `readsModel` (absent: it reads the model after every step). */
    readsModel?: (step: number) => boolean;
    from?: { state: LoopState; weights: Record<string, Float32Array> };
  },
) => {
  const model = build(spec);
  if (options.from !== undefined) {
    const w = options.from.weights;
    for (const v of model.weights) v.write(tf.tensor(w[v.originalName]!, v.shape as number[]));
  }
  const optimizer = sgd({ momentum: 0.9 });
  const ac = new AbortController();
  const asked: number[] = [];
  /** "batch s" and "hook s" in the order they happened. */
  const events: string[] = [];
  const all = batchesFor([5, 5, 1], 12);
  const batches: Batches = (step) => {
    asked.push(step);
    events.push(`batch ${step}`);
    return all(step);
  };
  const seen: {
    step: number;
    stateStep: number;
    count: number;
    loss: number;
    w: Record<string, Float32Array>;
    momentum: Record<string, Float32Array>;
  }[] = [];
  const hooks: Hook[] =
    options.hooks === false
      ? []
      : [
          {
            onStep: ({ step, state, model: m, loss }) => {
              events.push(`hook ${step}`);
              seen.push({
                step,
                stateStep: state.step,
                count: state.opt.count,
                loss,
                w: weightsOf(m),
                momentum: slotOf(state.opt, "momentum"),
              });
              if (step === options.stopAfterHookOf) ac.abort();
            },
            ...(options.readsModel === undefined ? {} : { readsModel: options.readsModel }),
          },
        ];
  const r = await run({
    model,
    optimizer,
    loss: softmaxCrossEntropy(),
    schedule: (step) => {
      if (step === options.abortInSchedule) ac.abort();
      return constant(LR)(step);
    },
    batches,
    state: options.from?.state ?? initLoop(model, optimizer),
    to: options.to,
    hooks,
    signal: ac.signal,
  });
  const out = { result: r, weights: weightsOf(model), seen, asked, events };
  model.dispose();
  return out;
};

/** A copy of an optimizer state (the original is disposed with its run's result). */
const copyState = (s: LoopState): LoopState => ({
  step: s.step,
  opt: {
    count: s.opt.count,
    slots: Object.fromEntries(
      Object.entries(s.opt.slots).map(([k, ws]) => [
        k,
        Object.fromEntries(Object.entries(ws).map(([n, t]) => [n, t.clone()])),
      ]),
    ),
  },
});

/**
 * Resumes the run `from` ended with (its state and weights) with `run` to `STEPS`, and checks it
 * ends at the weights of `STEPS` uninterrupted single-thread steps (1e-5); returns the resumed run.
 */
const resumeToWhole = async (
  run: Run,
  from: Awaited<ReturnType<typeof train>>,
  options: { hooks?: boolean; readsModel?: (step: number) => boolean },
) => {
  const resumed = await train(run, {
    to: STEPS,
    ...options,
    from: { state: copyState(from.result.state), weights: from.weights },
  });
  const whole = await train(runSteps, { to: STEPS, hooks: false });
  expect(resumed.result.state.step).toBe(STEPS);
  expect(resumed.result.state.opt.count).toBe(STEPS);
  expectClose(resumed.weights, whole.weights, 1e-5);
  for (const r of [resumed, whole]) disposeOptState(r.result.state.opt);
  return resumed;
};

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

describe("hooks, signals and resumes as runSteps has them (2 cpu replicas)", () => {
  let runner: ParallelRunner;
  beforeAll(async () => {
    runner = await parallelRunner({
      transport: nodeTransport(),
      workers: 2,
      backend: "cpu",
      model: { spec },
      optimizer: { kind: "sgd", momentum: 0.9 },
    });
  });
  afterAll(() => runner.close());

  it("the hooks see every step's state and weights as single-thread training's hooks do", async () => {
    const want = await train(runSteps, { to: STEPS });
    const got = await train(runner.runSteps, { to: STEPS });
    expect(got.seen.map((s) => [s.step, s.stateStep, s.count])).toEqual(
      want.seen.map((s) => [s.step, s.stateStep, s.count]),
    );
    got.seen.forEach((s, i) => {
      expectClose(s.w, want.seen[i]!.w, 1e-5);
    });
    expect(got.asked).toEqual(want.asked);
    expect(got.result.aborted).toBe(false);
    disposeOptState(got.result.state.opt);
    disposeOptState(want.result.state.opt);
  });

  it("a hook that aborts the signal at step 4: the run returns step 5 with the weights that hook saw; resuming to 12 matches 12 uninterrupted steps", async () => {
    const want = await train(runSteps, { to: STEPS, stopAfterHookOf: 4 });
    const got = await train(runner.runSteps, { to: STEPS, stopAfterHookOf: 4 });
    for (const r of [want, got]) {
      expect(r.result.aborted).toBe(true);
      expect(r.result.state.step).toBe(5);
      expect(r.result.state.opt.count).toBe(5);
      expect(r.seen.map((s) => s.step)).toEqual([0, 1, 2, 3, 4]);
      // With hooks, step s + 1 is posted after the hooks of step s, as runSteps runs it.
      expect(r.asked).toEqual([0, 1, 2, 3, 4]);
    }
    expectClose(got.weights, got.seen[4]!.w, 0);
    expectClose(got.weights, want.weights, 1e-5);
    const momentum = slotOf(got.result.state.opt, "momentum");
    expect(Object.keys(momentum).length).toBeGreaterThan(0);
    expectClose(momentum, slotOf(want.result.state.opt, "momentum"), 1e-5);

    const resumed = await resumeToWhole(runner.runSteps, got, { hooks: false });
    expect(resumed.asked).toEqual([5, 6, 7, 8, 9, 10, 11]);
    for (const r of [want, got]) disposeOptState(r.result.state.opt);
  });

  it("a signal without hooks (aborted while step 6 is posted, step 5 in flight): the run ends after step 6, as runSteps does, with that step's weights and momentum", async () => {
    const want = await train(runSteps, { to: STEPS, abortInSchedule: 6, hooks: false });
    const got = await train(runner.runSteps, { to: STEPS, abortInSchedule: 6, hooks: false });
    for (const r of [want, got]) {
      expect(r.result.aborted).toBe(true);
      expect(r.result.state.step).toBe(7);
      expect(r.result.state.opt.count).toBe(7);
      expect(r.asked).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
    expectClose(got.weights, want.weights, 1e-5);
    expectClose(
      slotOf(got.result.state.opt, "momentum"),
      slotOf(want.result.state.opt, "momentum"),
      1e-5,
    );
    disposeOptState(got.result.state.opt);
    disposeOptState(want.result.state.opt);
  });

  it("a hook that reads the model after odd steps only: there it sees single-thread training's weights and momentum; after the even steps the next batch is asked for before the hook runs", async () => {
    const odd = (s: number) => s % 2 === 1;
    const want = await train(runSteps, { to: STEPS, readsModel: odd });
    const got = await train(runner.runSteps, { to: STEPS, readsModel: odd });
    expect(got.seen.map((s) => [s.step, s.stateStep])).toEqual(
      want.seen.map((s) => [s.step, s.stateStep]),
    );
    got.seen.forEach((s, i) => {
      const w = want.seen[i]!;
      expect(Math.abs(s.loss - w.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(w.loss));
      if (!odd(s.step)) return;
      expect(s.count).toBe(w.count);
      expectClose(s.w, w.w, 1e-5);
      expectClose(s.momentum, w.momentum, 1e-5);
    });
    for (let s = 0; s + 1 < STEPS; s++) {
      const order = [got.events.indexOf(`batch ${s + 1}`), got.events.indexOf(`hook ${s}`)];
      // Posted ahead after even steps, after the hook (as runSteps) after odd ones.
      expect(order[0]! < order[1]!, `step ${s}`).toBe(!odd(s));
    }
    expect(got.asked).toEqual(want.asked);
    expectClose(got.weights, want.weights, 1e-5);
    expectClose(
      slotOf(got.result.state.opt, "momentum"),
      slotOf(want.result.state.opt, "momentum"),
      1e-5,
    );
    for (const r of [want, got]) disposeOptState(r.result.state.opt);
  });

  it("a hook that aborts after a step no hook reads the model at stops one step later than runSteps: the step posted ahead finishes and its hooks run; resuming from there matches the uninterrupted run", async () => {
    const none = () => false;
    const got = await train(runner.runSteps, { to: STEPS, stopAfterHookOf: 4, readsModel: none });
    expect(got.result.aborted).toBe(true);
    expect(got.result.state.step).toBe(6);
    expect(got.result.state.opt.count).toBe(6);
    expect(got.seen.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.asked).toEqual([0, 1, 2, 3, 4, 5]);
    const six = await train(runSteps, { to: 6, hooks: false });
    expectClose(got.weights, six.weights, 1e-5);
    expectClose(
      slotOf(got.result.state.opt, "momentum"),
      slotOf(six.result.state.opt, "momentum"),
      1e-5,
    );
    await resumeToWhole(runner.runSteps, got, { readsModel: none });
    for (const r of [got, six]) disposeOptState(r.result.state.opt);
  });

  it("a signal aborted before the first step runs nothing and keeps the state given", async () => {
    const model = build(spec);
    const optimizer = sgd({ momentum: 0.9 });
    const before = weightsOf(model);
    const ac = new AbortController();
    ac.abort();
    const tensors = tf.memory().numTensors;
    const r = await runner.runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: constant(LR),
      batches: batchesFor([5, 5, 1], 12),
      state: initLoop(model, optimizer),
      to: STEPS,
      signal: ac.signal,
    });
    expect(r.aborted).toBe(true);
    expect(r.state.step).toBe(0);
    expect(r.state.opt.count).toBe(0);
    expectClose(weightsOf(model), before, 0);
    disposeOptState(r.state.opt);
    // The first batch, fetched before the signal was read, was disposed; the state given came back.
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });
});
