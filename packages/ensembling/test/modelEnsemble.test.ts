import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { assignToModel, disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  collectAt,
  disposeSnapshots,
  ensemblePredict,
  ensembleProbabilities,
  loadSnapshot,
  memberProbabilities,
  predictionMetrics,
  predictProbabilities,
  type SnapshotState,
} from "../src/index.js";
import { blobs, mlp } from "./fixture.js";

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

let root = "";
const train = blobs(240, 7);
const test = blobs(90, 8);
let model: tf.LayersModel;
/** Snapshots every 4th step of 16 SGD steps (batches of 24), in memory and on disk. */
let inMemory: SnapshotState;
let onDisk: SnapshotState;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wider-ensembling-model-"));
  model = mlp(3);
  const policy = (s: number) => s % 4 === 3;
  const mem = collectAt(policy, { maxCount: 10, store: "memory" });
  const disk = collectAt(policy, { maxCount: 10, store: { dir: join(root, "fge") } });
  inMemory = mem.init();
  onDisk = disk.init();
  for (let step = 0; step < 16; step++) {
    const start = (step * 24) % 240;
    const xb = train.x.slice(start, 24);
    const yb = train.y.slice(start, 24);
    await model.trainOnBatch(xb, yb);
    tf.dispose([xb, yb]);
    const w = fromModel(model, { include: "all" });
    inMemory = orThrow(await mem.update(inMemory, step, w));
    onDisk = orThrow(await disk.update(onDisk, step, w));
    disposeWeights(w);
  }
});

afterAll(async () => {
  await disposeSnapshots(inMemory);
  await disposeSnapshots(onDisk, { deleteFiles: true });
  model.dispose();
  tf.dispose([train.x, train.y, test.x, test.y]);
  await rm(root, { recursive: true, force: true });
});

describe("ensembling snapshots of a tfjs-layers model", () => {
  it("collected four distinct snapshots", () => {
    expect(inMemory.snapshots.map((s) => s.step)).toEqual([3, 7, 11, 15]);
    expect(onDisk.snapshots.map((s) => s.step)).toEqual([3, 7, 11, 15]);
  });

  it("an ensemble of identical members equals the single model", async () => {
    const w = fromModel(model, { include: "all" });
    const same = collectAt(() => true, { maxCount: 3, store: "memory" });
    let state = same.init();
    for (let i = 0; i < 3; i++) state = orThrow(await same.update(state, i, w));
    const single = orThrow(predictProbabilities(model, test.x));
    const ens = orThrow(await ensembleProbabilities(model, state, { test: test.x }));
    expect(ens.test.shape).toEqual([90, 3]);
    expect(maxAbsDiff(ens.test, single)).toBeLessThan(1e-6);
    tf.dispose([single, ens.test]);
    disposeWeights(w);
    await disposeSnapshots(state);
  });

  it("streaming and all-in-memory paths give the same probabilities (1e-6), on two sets", async () => {
    const sets = { test: test.x, train: train.x };
    const streamed = orThrow(await ensembleProbabilities(model, inMemory, sets, { batchSize: 32 }));
    const all = orThrow(await memberProbabilities(model, inMemory, sets));
    for (const k of ["test", "train"] as const) {
      expect(all[k]).toHaveLength(4);
      const stacked = tf.tidy(() => tf.mean(tf.stack(all[k]), 0));
      expect(maxAbsDiff(streamed[k], stacked)).toBeLessThan(1e-6);
      // the members really differ, so the test can tell an average from any one member
      expect(maxAbsDiff(all[k][0]!, all[k][3]!)).toBeGreaterThan(1e-3);
      tf.dispose([stacked, streamed[k], ...all[k]]);
    }
  });

  it("a third, user-level path (ensemblePredict over loaded weights) agrees", async () => {
    const other = mlp(99); // a second instance: weights move by explicit layer names
    const streamed = orThrow(await ensembleProbabilities(model, inMemory, { test: test.x }));
    const viaUser = orThrow(
      await ensemblePredict(
        inMemory.snapshots,
        async (s, x) => {
          const w = orThrow(await loadSnapshot(s));
          orThrow(assignToModel(other, w));
          disposeWeights(w);
          return other.predict(x) as tf.Tensor;
        },
        test.x,
        { batchSize: 40 },
      ),
    );
    expect(maxAbsDiff(streamed.test, viaUser)).toBeLessThan(1e-6);
    tf.dispose([streamed.test, viaUser]);
    other.dispose();
  });

  it("disk-spilled snapshots give the same probabilities as in-memory ones", async () => {
    const mem = orThrow(await ensembleProbabilities(model, inMemory, { test: test.x }));
    const disk = orThrow(await ensembleProbabilities(model, onDisk, { test: test.x }));
    expect(maxAbsDiff(mem.test, disk.test)).toBe(0);
    tf.dispose([mem.test, disk.test]);
  });

  it("a logits model with { logits: true } matches the softmax model with the same weights", async () => {
    const linear = mlp(3, "linear");
    const a = orThrow(await ensembleProbabilities(model, inMemory, { test: test.x }));
    const b = orThrow(
      await ensembleProbabilities(linear, inMemory, { test: test.x }, { logits: true }),
    );
    expect(maxAbsDiff(a.test, b.test)).toBeLessThan(1e-6);
    tf.dispose([a.test, b.test]);
    linear.dispose();
  });

  it("the ensemble is at least as good in NLL as the mean member here, and metrics are finite", async () => {
    const ens = orThrow(await ensembleProbabilities(model, inMemory, { test: test.x }));
    const all = orThrow(await memberProbabilities(model, inMemory, { test: test.x }));
    const m = orThrow(predictionMetrics(ens.test, test.labels));
    const members = all.test.map((p) => orThrow(predictionMetrics(p, test.labels)));
    // Jensen: NLL of the averaged probabilities <= mean of the members' NLLs (-log is convex).
    const meanNll = members.reduce((s, x) => s + x.nll, 0) / members.length;
    expect(m.nll).toBeLessThanOrEqual(meanNll + 1e-9);
    expect(m.accuracy).toBeGreaterThan(0.5);
    for (const v of [m.accuracy, m.nll, m.brier, m.ece]) expect(Number.isFinite(v)).toBe(true);
    tf.dispose([ens.test, ...all.test]);
  });

  it("restores the model's weights and leaks no tensors", async () => {
    const before = fromModel(model, { include: "all" });
    const count = tf.memory().numTensors;
    const ens = orThrow(
      await ensembleProbabilities(model, onDisk, { test: test.x }, { batchSize: 7 }),
    );
    ens.test.dispose();
    const all = orThrow(await memberProbabilities(model, inMemory, { test: test.x }));
    tf.dispose(all.test);
    expect(tf.memory().numTensors).toBe(count);
    const after = fromModel(model, { include: "all" });
    for (const k of Object.keys(before)) {
      expect(after[k]?.dataSync()).toEqual(before[k]?.dataSync());
    }
    disposeWeights(before);
    disposeWeights(after);
  });

  it("data errors are Left values (no members, foreign weights), options throw; nothing leaks", async () => {
    const count = tf.memory().numTensors;
    const none = await ensembleProbabilities(model, [], { test: test.x });
    expect(E.isLeft(none) && none.left.message).toMatch(/0 members/);
    await expect(ensembleProbabilities(model, inMemory, {})).rejects.toThrow(/evalSets is empty/);
    const foreign: Weights = { "conv/kernel": tf.zeros([3, 3]) };
    const bad = await ensembleProbabilities(
      model,
      [{ kind: "memory", step: 0, weights: foreign }],
      { test: test.x },
    );
    expect(E.isLeft(bad) && bad.left).toMatchObject({ _tag: "EnsemblingError", kind: "shape" });
    disposeWeights(foreign);
    await expect(
      ensembleProbabilities(model, inMemory, { test: test.x }, { batchSize: -1 }),
    ).rejects.toThrow(expect.objectContaining({ kind: "config", path: "batchSize", value: -1 }));
    expect(tf.memory().numTensors).toBe(count);
  });
});
