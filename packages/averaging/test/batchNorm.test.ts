import * as tf from "@tensorflow/tfjs";
import { assignToModel, disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { batchNormLayers, updateBatchNorm } from "../src/index.js";

/** A dense model with a channels-first BatchNormalization (axis 1) on a [N, 3, 5] activation. */
const model = () =>
  tf.sequential({
    layers: [
      tf.layers.reshape({ targetShape: [3, 5], inputShape: [15] }),
      tf.layers.batchNormalization({ axis: 1, name: "bnc" }),
    ],
  });

/** Oracle in plain JS (float64): per-channel mean and unbiased variance of x [N, 3, 5] on axis 1. */
const channelStats = (x: number[][], n: number) => {
  const mean = [0, 0, 0];
  const vr = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const vals = x.flatMap((row) => row.slice(c * 5, c * 5 + 5));
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    mean[c] = m;
    vr[c] = vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1);
  }
  return { mean, vr, n };
};

const rows = (n: number, seed: number): number[][] =>
  Array.from({ length: n }, (_, i) =>
    Array.from({ length: 15 }, (_, j) => Math.sin(seed * 7 + i * 3.1 + j * 1.7) * (1 + j)),
  );

const stats = (m: tf.LayersModel) => {
  const w = fromModel(m, { include: "all" });
  const out = {
    mean: Array.from(w["bnc/moving_mean"]!.dataSync()),
    vr: Array.from(w["bnc/moving_variance"]!.dataSync()),
  };
  disposeWeights(w);
  return out;
};

const close = (got: number[], want: number[]) => {
  for (let i = 0; i < want.length; i++)
    expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(
      1e-5 * Math.max(1, Math.abs(want[i]!)),
    );
};

describe("updateBatchNorm", () => {
  const data = [rows(4, 1), rows(4, 2), rows(2, 3)];
  const per = data.map((d) => channelStats(d, d.length));
  const byBatch = {
    mean: [0, 1, 2].map((c) => per.reduce((s, p) => s + p.mean[c]!, 0) / per.length),
    vr: [0, 1, 2].map((c) => per.reduce((s, p) => s + p.vr[c]!, 0) / per.length),
  };
  const bySamples = {
    mean: [0, 1, 2].map((c) => per.reduce((s, p) => s + p.n * p.mean[c]!, 0) / 10),
    vr: [0, 1, 2].map((c) => per.reduce((s, p) => s + p.n * p.vr[c]!, 0) / 10),
  };

  it("honours the layer's axis and both weightings (JS oracle)", async () => {
    for (const [weighting, want] of [
      ["batch", byBatch],
      ["samples", bySamples],
    ] as const) {
      const m = model();
      const xs = data.map((d) => tf.tensor2d(d));
      await updateBatchNorm(m, xs, { weighting });
      close(stats(m).mean, want.mean);
      close(stats(m).vr, want.vr);
      tf.dispose(xs);
      m.dispose();
    }
  });

  it("accepts arrays, iterables, async iterables and tf.data datasets of x, [x, y] or { xs, ys }", async () => {
    const mk = () => data.map((d) => tf.tensor2d(d));
    const ys = tf.zeros([4, 1]);
    const sources: Array<[string, () => Parameters<typeof updateBatchNorm>[1], () => void]> = [];
    const a = mk();
    sources.push(["array of [x, y]", () => a.map((x) => [x, ys] as const), () => tf.dispose(a)]);
    const b = mk();
    sources.push([
      "generator of { xs, ys }",
      () =>
        (function* () {
          for (const x of b) yield { xs: x, ys };
        })(),
      () => tf.dispose(b),
    ]);
    const c = mk();
    sources.push([
      "async generator of x",
      () =>
        (async function* () {
          for (const x of c) yield x;
        })(),
      () => tf.dispose(c),
    ]);
    sources.push([
      "tf.data.Dataset of { xs, ys } (its tensors disposed for us)",
      () =>
        tf.data.generator(function* () {
          for (const d of data) yield { xs: tf.tensor2d(d), ys: tf.zeros([d.length, 1]) };
        }),
      () => undefined,
    ]);
    for (const [what, src, cleanup] of sources) {
      const m = model();
      const before = tf.memory().numTensors;
      await updateBatchNorm(m, src());
      expect(tf.memory().numTensors, what).toBe(before);
      close(stats(m).mean, byBatch.mean);
      close(stats(m).vr, byBatch.vr);
      cleanup();
      m.dispose();
    }
    ys.dispose();
  });

  it("returns at once for a model without BatchNormalization, without reading batches", async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    let read = false;
    const src = (function* () {
      read = true;
      yield tf.zeros([2, 3]);
    })();
    await updateBatchNorm(m, src);
    expect(read).toBe(false);
    expect(batchNormLayers(m)).toEqual([]);
    m.dispose();
  });

  it("finds nested BatchNormalization layers", () => {
    const inner = tf.sequential({
      layers: [tf.layers.batchNormalization({ inputShape: [4], name: "inner_bn" })],
    });
    const outer = tf.sequential({
      layers: [
        tf.layers.dense({ units: 4, inputShape: [2] }),
        inner,
        tf.layers.batchNormalization({ name: "outer_bn" }),
      ],
    });
    expect(batchNormLayers(outer).map((l) => l.name)).toEqual(["inner_bn", "outer_bn"]);
    outer.dispose();
  });

  it("rejects an empty pass or a single value per channel, restoring the statistics and the layers", async () => {
    const m = model();
    const before = stats(m);
    await expect(updateBatchNorm(m, [])).rejects.toThrow(/yielded no batch/);
    expect(stats(m)).toEqual(before);
    // A dense BN on a [1, 3] batch has one value per channel.
    const good = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 7],
    ]);
    const single = tf.ones([1, 3]);
    const m2 = tf.sequential({
      layers: [tf.layers.batchNormalization({ inputShape: [3], name: "bn_single" })],
    });
    const init = {
      "bn_single/moving_mean": tf.tensor1d([5, 6, 7]),
      "bn_single/moving_variance": tf.tensor1d([2, 3, 4]),
    };
    expect(E.isRight(assignToModel(m2, init))).toBe(true);
    disposeWeights(init);
    await expect(updateBatchNorm(m2, [good, single])).rejects.toThrow(/got 1 value per channel/);
    const w = fromModel(m2, { include: "all" });
    expect(Array.from(w["bn_single/moving_mean"]!.dataSync())).toEqual([5, 6, 7]);
    expect(Array.from(w["bn_single/moving_variance"]!.dataSync())).toEqual([2, 3, 4]);
    disposeWeights(w);
    // The patched `call` is gone: a training-mode forward moves the stats by the Keras momentum again.
    expect(Object.hasOwn(m2.layers[0]!, "call")).toBe(false);
    tf.dispose([good, single]);
    m.dispose();
    m2.dispose();
  });

  it("channels-last (the path that computes the moments once): JS oracle, one read from the device, no leak", async () => {
    const m = tf.sequential({
      layers: [tf.layers.batchNormalization({ inputShape: [15], name: "bnc" })],
    });
    const xs = data.map((d) => tf.tensor2d(d));
    // Oracle: per-column mean and unbiased variance of each batch, averaged over batches.
    const col = (d: number[][], j: number) => {
      const v = d.map((r) => r[j]!);
      const mu = v.reduce((a, b) => a + b, 0) / v.length;
      return [mu, v.reduce((a, b) => a + (b - mu) ** 2, 0) / (v.length - 1)] as const;
    };
    const want = [...Array(15).keys()].map((j) => {
      const per = data.map((d) => col(d, j));
      return [per.reduce((a, p) => a + p[0], 0) / 3, per.reduce((a, p) => a + p[1], 0) / 3];
    });
    const backend = tf.backend() as unknown as { readSync: (id: object) => unknown };
    const readSync = backend.readSync;
    let reads = 0;
    backend.readSync = (id) => {
      reads++;
      return readSync.call(backend, id);
    };
    const before = tf.memory().numTensors;
    try {
      await updateBatchNorm(m, xs);
    } finally {
      backend.readSync = readSync;
    }
    expect(reads).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    const w = fromModel(m, { include: "all" });
    const mean = Array.from(w["bnc/moving_mean"]!.dataSync());
    const vr = Array.from(w["bnc/moving_variance"]!.dataSync());
    disposeWeights(w);
    close(
      mean,
      want.map((p) => p[0]!),
    );
    close(
      vr,
      want.map((p) => p[1]!),
    );
    tf.dispose(xs);
    m.dispose();
  });
});
