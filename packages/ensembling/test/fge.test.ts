import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { isCycleEnd, isCycleMidpoint, triangular } from "@wider/schedules";
import { disposeWeights, fromModel } from "@wider/weights";
import { describe, expect, it } from "vitest";
import {
  collectAt,
  disposeSnapshots,
  ensembleProbabilities,
  predictionMetrics,
  type SnapshotPolicy,
  snapshotCallback,
} from "../src/index.js";
import { blobs, CLASSES, FEATURES } from "./fixture.js";

/** A short FGE-style run: SGD with a triangular learning rate, snapshots where `policy` says. */
const run = async (policy: SnapshotPolicy) => {
  const train = blobs(192, 21);
  const test = blobs(60, 22);
  const optimizer = tf.train.sgd(0.1);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        name: "h",
        inputShape: [FEATURES],
        units: 12,
        activation: "tanh",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
      }),
      tf.layers.dense({
        name: "o",
        units: CLASSES,
        activation: "softmax",
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
      }),
    ],
  });
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const lr = triangular({ high: 0.2, low: 0.02, cycle: 4 });
  const collector = collectAt(policy, { maxCount: 5, store: "memory" });
  let state = collector.init();
  const lrAtSnapshots: number[] = [];
  for (let step = 0; step < 12; step++) {
    optimizer.setLearningRate(lr(step));
    const start = (step * 16) % 192;
    const xb = train.x.slice(start, 16);
    const yb = train.y.slice(start, 16);
    await model.trainOnBatch(xb, yb);
    tf.dispose([xb, yb]);
    const w = fromModel(model, { include: "all" });
    const next = orThrow(await collector.update(state, step, w));
    if (next !== state) lrAtSnapshots.push(lr(step));
    state = next;
    disposeWeights(w);
  }
  const ens = orThrow(await ensembleProbabilities(model, state, { test: test.x }));
  const metrics = orThrow(predictionMetrics(ens.test, test.labels));
  ens.test.dispose();
  const steps = state.snapshots.map((s) => s.step);
  await disposeSnapshots(state);
  model.dispose();
  optimizer.dispose();
  tf.dispose([train.x, train.y, test.x, test.y]);
  return { steps, lrAtSnapshots, metrics };
};

describe("collectAt with @wider/schedules policies", () => {
  it("isCycleMidpoint collects FGE's snapshots where the triangular rate is lowest", async () => {
    const before = tf.memory().numTensors;
    const r = await run(isCycleMidpoint(4));
    expect(r.steps).toEqual([2, 6, 10]);
    expect(r.lrAtSnapshots).toEqual([0.02, 0.02, 0.02]);
    expect(r.metrics.count).toBe(60);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("isCycleEnd collects at the last step of each cycle (the sawtooth's low point)", async () => {
    const r = await run(isCycleEnd(4));
    expect(r.steps).toEqual([3, 7, 11]);
  });
});

describe("snapshotCallback with model.fit", () => {
  const fitModel = () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ name: "h", inputShape: [FEATURES], units: 6, activation: "relu" }),
        tf.layers.dense({ name: "o", units: CLASSES, activation: "softmax" }),
      ],
    });
    model.compile({ optimizer: "sgd", loss: "categoricalCrossentropy" });
    return model;
  };

  it("collects at global batch steps across epochs, keeping the last maxCount", async () => {
    const data = blobs(96, 31);
    const model = fitModel();
    const collector = collectAt(isCycleEnd(4), { maxCount: 3, store: "memory" });
    const cb = snapshotCallback({ collector });
    // 96 samples / 16 = 6 batches per epoch, 3 epochs = steps 0..17 -> ends 3, 7, 11, 15
    await model.fit(data.x, data.y, {
      epochs: 3,
      batchSize: 16,
      shuffle: false,
      callbacks: [cb],
      verbose: 0,
    });
    expect(cb.step).toBe(18);
    expect(cb.state.snapshots.map((s) => s.step)).toEqual([7, 11, 15]);
    expect(cb.state.evicted).toBe(1);
    const last = cb.state.snapshots[2];
    const now = fromModel(model, { include: "all" });
    // step 15 is not the last batch, so the final weights differ from the last snapshot
    expect(last?.kind === "memory" && last.weights["o/bias"]?.dataSync()).not.toEqual(
      now["o/bias"]?.dataSync(),
    );
    disposeWeights(now);
    await disposeSnapshots(cb.state);
    model.dispose();
    tf.dispose([data.x, data.y]);
  });

  it("a snapshot that cannot be saved makes fit reject with the collector's message", async () => {
    const root = await mkdtemp(join(tmpdir(), "wider-ensembling-cb-"));
    const blocker = join(root, "file");
    await writeFile(blocker, "not a directory");
    const data = blobs(32, 32);
    const model = fitModel();
    const collector = collectAt(() => true, { maxCount: 2, store: { dir: blocker } });
    await expect(
      model.fit(data.x, data.y, {
        epochs: 1,
        batchSize: 16,
        callbacks: [snapshotCallback({ collector })],
        verbose: 0,
      }),
    ).rejects.toThrow(/SnapshotCallback at step 0: could not save the snapshot of step 0/);
    model.dispose();
    tf.dispose([data.x, data.y]);
    await rm(root, { recursive: true, force: true });
  });
});
