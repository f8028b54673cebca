import * as tf from "@tensorflow/tfjs";
import { constant, cyclical, join, type Schedule } from "@wider/schedules";
import { clone, disposeWeights, flatten, fromModel, type Weights } from "@wider/weights";
import { describe, expect, it } from "vitest";
import {
  atCycleEnds,
  averagingCallback,
  disposeState,
  ema,
  getLearningRate,
  learningRateScheduler,
  swaCallback,
  when,
} from "../src/index.js";

const net = (optimizer: tf.Optimizer) => {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 4,
        inputShape: [3],
        activation: "relu",
        name: "h",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.batchNormalization({ name: "bn" }),
      tf.layers.dense({
        units: 1,
        name: "o",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  m.compile({ optimizer, loss: "meanSquaredError" });
  return m;
};
const x = tf.tensor2d(
  Array.from({ length: 24 }, (_, i) => Math.sin(i)),
  [8, 3],
);
const y = tf.tensor2d(
  Array.from({ length: 8 }, (_, i) => Math.cos(i)),
  [8, 1],
);
// batchSize 2 -> 4 batches (steps) per epoch.
const fitOptions = { batchSize: 2, shuffle: false } as const;

/** Pre-training at a constant 0.05 for 5 steps, then 4-step cycles from 0.05 down to 0.005. */
const START = 5;
const CYCLE = 4;
const joined: Schedule = join(
  [constant(0.05), cyclical({ high: 0.05, low: 0.005, cycle: CYCLE })],
  [START],
);

/** Records, after every batch, the step, the rate the optimizer used, the averager's n, and the weights. */
const probe = (m: tf.LayersModel, n: () => number) => {
  const seen: { rate: number; n: number; weights: Weights }[] = [];
  const cb = new (class extends tf.Callback {
    override async onBatchEnd() {
      seen.push({
        rate: getLearningRate(m.optimizer),
        n: n(),
        weights: fromModel(m, { include: "all" }),
      });
    }
  })();
  const dispose = (): void => {
    for (const s of seen) disposeWeights(s.weights);
  };
  return { cb, seen, dispose };
};

/** The float64 mean of the given weight sets, flattened (`flatten`'s key order). */
const meanOf = (sets: readonly Weights[]): number[] => {
  const flat = sets.map((w) => Array.from(flatten(w)));
  return flat[0]!.map((_, j) => flat.reduce((s, f) => s + f[j]!, 0) / flat.length);
};

describe("swaCallback", () => {
  it("with a joined schedule, collects only at steps whose rate is the schedule's minimum; the average is the mean of those weights", async () => {
    const m = net(tf.train.sgd(1));
    const cb = swaCallback({ schedule: joined, start: START, collect: { cycle: CYCLE } });
    const p = probe(m, () => cb.state.n);
    const before = tf.memory().numTensors;
    // 5 epochs x 4 batches = steps 0..19.
    await m.fit(x, y, { ...fitOptions, epochs: 5, callbacks: [cb, p.cb] });
    expect(cb.step).toBe(20);

    // The probe saw the rate the optimizer used at each step: the schedule's, on the same counter.
    expect(p.seen.map((s) => s.rate)).toEqual(Array.from({ length: 20 }, (_, s) => joined(s)));
    // Collection steps found independently: where the probe saw n go up.
    const collected = p.seen.flatMap((s, step) =>
      s.n > (step === 0 ? 0 : p.seen[step - 1]!.n) ? [step] : [],
    );
    expect(collected).toEqual([8, 12, 16]); // start + cycle - 1, then every cycle
    const minimum = Math.min(...Array.from({ length: 20 }, (_, s) => joined(s)));
    expect(minimum).toBe(0.005);
    for (const step of collected) expect(p.seen[step]!.rate).toBe(minimum);
    expect(cb.collections).toEqual(collected.map((step) => ({ step, rate: minimum })));

    // The average against a float64 mean of the probe's copies at those steps (float32 running mean).
    const want = meanOf(collected.map((s) => p.seen[s]!.weights));
    const got = Array.from(flatten(cb.averaged!));
    expect(got.length).toBe(want.length);
    for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-6);
    expect(Object.keys(cb.averaged!)).toContain("bn/moving_mean"); // include "all" by default

    p.dispose();
    cb.dispose();
    expect(cb.state.n).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it("the trap it replaces: absolute atCycleEnds with two callbacks collects mid-cycle", async () => {
    const m = net(tf.train.sgd(1));
    const avg = averagingCallback({
      averager: ema({ decay: 0.5 }),
      policy: atCycleEnds(CYCLE, { start: START }),
    });
    const lr = learningRateScheduler({ schedule: joined });
    const p = probe(m, () => avg.state.n);
    await m.fit(x, y, { ...fitOptions, epochs: 5, callbacks: [lr, avg, p.cb] });
    const rates = p.seen.flatMap((s, step) =>
      s.n > (step === 0 ? 0 : p.seen[step - 1]!.n) ? [s.rate] : [],
    );
    expect(rates.length).toBe(4); // absolute steps 7, 11, 15, 19
    for (const r of rates) expect(r).toBeGreaterThan(0.005); // never at the minimum
    p.dispose();
    avg.dispose();
    m.dispose();
  });

  it("a policy as collect sees the step re-based to start", async () => {
    const m = net(tf.train.sgd(0.1));
    const seen: number[] = [];
    const cb = swaCallback({
      schedule: constant(0.1),
      start: 3,
      collect: (s) => {
        seen.push(s);
        return s % 2 === 0;
      },
    });
    await m.fit(x, y, { ...fitOptions, epochs: 2, callbacks: [cb] }); // steps 0..7
    expect(seen).toEqual([0, 1, 2, 3, 4]); // called from step 3 on, with step - 3
    expect(cb.collections.map((c) => c.step)).toEqual([3, 5, 7]);
    expect(cb.state.n).toBe(3);
    cb.dispose();
    m.dispose();
  });

  it("resumes from a saved step and state to the same average as one uninterrupted run", async () => {
    const options = { schedule: joined, start: START, collect: { cycle: CYCLE } } as const;
    const whole = net(tf.train.sgd(1));
    const one = swaCallback(options);
    await whole.fit(x, y, { ...fitOptions, epochs: 5, callbacks: [one] });

    const parts = net(tf.train.sgd(1));
    const first = swaCallback(options);
    await parts.fit(x, y, { ...fitOptions, epochs: 3, callbacks: [first] }); // steps 0..11
    expect(first.collections.map((c) => c.step)).toEqual([8]);
    const saved = { step: first.step, n: first.state.n, mean: clone(first.averaged!) };
    first.dispose();
    const second = swaCallback({
      ...options,
      initialStep: saved.step,
      initialState: { n: saved.n, mean: saved.mean },
    });
    await parts.fit(x, y, { ...fitOptions, epochs: 2, callbacks: [second] }); // steps 12..19
    expect(second.step).toBe(20);
    expect(second.collections.map((c) => c.step)).toEqual([12, 16]);
    expect(second.state.n).toBe(one.state.n);
    expect(Array.from(flatten(second.averaged!))).toEqual(Array.from(flatten(one.averaged!)));
    one.dispose();
    second.dispose();
    whole.dispose();
    parts.dispose();
  });

  it("refuses a collect { cycle } that does not end at the cycle's lowest rate, and bad options", () => {
    expect(() =>
      swaCallback({ schedule: joined, start: START - 1, collect: { cycle: CYCLE } }),
    ).toThrow(
      /collects at step 11, where the rate is 0\.0162.*steps 8\.\.11\) goes down to 0\.005 at step 8.*set start to the step where the schedule's cycles begin/,
    );
    expect(() => swaCallback({ schedule: joined, start: -1, collect: { cycle: 4 } })).toThrow();
    expect(() => swaCallback({ schedule: joined, start: 5, collect: { cycle: 0 } })).toThrow(
      /collect.cycle is 0; use an integer >= 1/,
    );
    expect(() =>
      swaCallback({ schedule: joined, start: START + 1, collect: { cycle: CYCLE } }),
    ).toThrow(/collects at step 9/);
    expect(() =>
      swaCallback({ schedule: joined, start: 5, collect: when(), initialStep: 1.5 }),
    ).toThrow(/initialStep is 1.5/);
    expect(() =>
      // @ts-expect-error: a wrong collect, as untyped code could pass
      swaCallback({ schedule: joined, start: 5, collect: "cycle" }),
    ).toThrow(/collect is "cycle"; use \{ cycle: n \} or a policy/);
  });

  it("fails fit when the optimizer's rate cannot be set", async () => {
    const m = net(tf.train.sgd(0.1));
    const odd = Object.assign(Object.create(m.optimizer), { getClassName: () => "Mystery" });
    m.optimizer = odd as tf.Optimizer;
    const cb = swaCallback({ schedule: constant(0.1), start: 0, collect: when() });
    await expect(m.fit(x, y, { ...fitOptions, epochs: 1, callbacks: [cb] })).rejects.toThrow(
      /swaCallback: cannot set the learning rate of a Mystery optimizer/,
    );
    disposeState(cb.state);
    m.dispose();
  });
});
