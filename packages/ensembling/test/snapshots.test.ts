import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  collectAt,
  disposeSnapshots,
  loadSnapshot,
  meanOfSnapshots,
  type SnapshotCollector,
  type SnapshotState,
  snapshotsOnDisk,
} from "../src/index.js";
import { mlp } from "./fixture.js";

/** A weight set whose every entry is filled with `v`: easy to recognise after a round trip. */
const filled = (v: number): Weights => ({ a: tf.fill([2, 3], v), b: tf.fill([4], -v) });
const firstValue = (w: Weights): number => (w.a?.dataSync()[0] as number) ?? Number.NaN;

const feed = async (collector: SnapshotCollector, steps: number): Promise<SnapshotState> => {
  let state = collector.init();
  for (let step = 0; step < steps; step++) {
    const w = filled(step);
    state = orThrow(await collector.update(state, step, w));
    disposeWeights(w); // the caller's tensors stay the caller's
  }
  return state;
};

let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "wider-ensembling-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("collectAt", () => {
  it("collects at the policy's steps, keeps the last maxCount in memory, disposes evicted ones", async () => {
    const collector = collectAt((s) => s % 3 === 2, { maxCount: 2, store: "memory" });
    const before = tf.memory().numTensors;
    const state = await feed(collector, 12); // steps 2, 5, 8, 11 -> keeps 8, 11
    expect(state.snapshots.map((s) => s.step)).toEqual([8, 11]);
    expect(state.collected).toBe(4);
    expect(state.evicted).toBe(2);
    // two snapshots of two tensors each are all that is held
    expect(tf.memory().numTensors).toBe(before + 4);
    const w = orThrow(await loadSnapshot(state.snapshots[1]!));
    expect(firstValue(w)).toBe(11);
    expect(Array.from(w.b?.dataSync() ?? [])).toEqual([-11, -11, -11, -11]);
    disposeWeights(w);
    await disposeSnapshots(state);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("keepFirst ignores new snapshots when full; a step outside the policy returns the same state", async () => {
    const collector = collectAt((s) => s % 2 === 1, {
      maxCount: 2,
      store: "memory",
      whenFull: "keepFirst",
    });
    const state = await feed(collector, 8); // steps 1, 3, 5, 7 -> keeps 1, 3
    expect(state.snapshots.map((s) => s.step)).toEqual([1, 3]);
    expect(state.evicted).toBe(0);
    const w = filled(0);
    expect(orThrow(await collector.update(state, 4, w))).toBe(state);
    disposeWeights(w);
    await disposeSnapshots(state);
  });

  it("spills to disk: one directory per snapshot, evicted directories deleted, rediscoverable", async () => {
    const dir = join(root, "spill");
    const collector = collectAt((s) => s % 2 === 0, { maxCount: 3, store: { dir } });
    const before = tf.memory().numTensors;
    const state = await feed(collector, 10); // steps 0, 2, 4, 6, 8 -> keeps 4, 6, 8
    expect(tf.memory().numTensors).toBe(before);
    expect(state.snapshots.map((s) => s.step)).toEqual([4, 6, 8]);
    expect((await readdir(dir)).sort()).toEqual([
      "step-000000004",
      "step-000000006",
      "step-000000008",
    ]);
    const found = orThrow(await snapshotsOnDisk(dir));
    expect(found.snapshots).toEqual(state.snapshots);
    const loaded = orThrow(await loadSnapshot(found.snapshots[0]!));
    expect(firstValue(loaded)).toBe(4);
    disposeWeights(loaded);
    // mean of 4, 6, 8 = 6, streamed from disk
    const mean = orThrow(await meanOfSnapshots(found.snapshots));
    expect(Array.from(mean.a?.dataSync() ?? [])).toEqual([6, 6, 6, 6, 6, 6]);
    disposeWeights(mean);
    expect(tf.memory().numTensors).toBe(before);
    await disposeSnapshots(state, { deleteFiles: true });
    expect(await readdir(dir)).toEqual([]);
  });

  it("snapshots a real model's weights; later training does not change the snapshot", async () => {
    const model = mlp(1);
    const collector = collectAt(() => true, { maxCount: 1, store: "memory" });
    const w0 = fromModel(model, { include: "all" });
    const state = orThrow(await collector.update(collector.init(), 0, w0));
    const x = tf.ones([4, 8]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], "int32"), 3);
    await model.trainOnBatch(x, y);
    const snap = state.snapshots[0];
    expect(snap?.kind).toBe("memory");
    if (snap?.kind === "memory") {
      expect(Object.keys(snap.weights)).toEqual(Object.keys(w0));
      const k = "hidden/kernel";
      expect(snap.weights[k]?.dataSync()).toEqual(w0[k]?.dataSync());
      const now = fromModel(model);
      expect(now[k]?.dataSync()).not.toEqual(w0[k]?.dataSync());
      disposeWeights(now);
    }
    disposeWeights(w0);
    // the snapshot survives the caller disposing its weights
    expect(snap?.kind === "memory" && snap.weights["out/bias"]?.isDisposed).toBe(false);
    await disposeSnapshots(state);
    tf.dispose([x, y]);
    model.dispose();
  });

  it("bad configuration throws (options in code); unreadable directories are Left values", async () => {
    const config = expect.objectContaining({ _tag: "EnsemblingError", kind: "config" });
    expect(() => collectAt(() => true, { maxCount: 0, store: "memory" })).toThrow(config);
    expect(() => collectAt(() => true, { maxCount: 1.5, store: "memory" })).toThrow(config);
    expect(() => collectAt(() => true, { maxCount: 1, store: { dir: "" } })).toThrow(config);
    expect(() =>
      collectAt(() => true, { maxCount: 1, store: "memory", whenFull: "drop" as "keepFirst" }),
    ).toThrow(config);
    expect(() => collectAt(() => true, { maxCount: 0, store: "memory" })).toThrow(
      /maxCount was 0; pass a positive integer/,
    );
    const missing = await snapshotsOnDisk(join(root, "nope"));
    expect(E.isLeft(missing) && missing.left.kind).toBe("io");
    const gone = await loadSnapshot({ kind: "disk", step: 3, dir: join(root, "nope") });
    expect(E.isLeft(gone) && gone.left.message).toMatch(/snapshot of step 3/);
    expect(E.isLeft(await meanOfSnapshots([]))).toBe(true);
  });
});
