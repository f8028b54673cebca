/**
 * On wasm with @wider/backend's kernels registered, `swa()` and `ema()` run their one-pass
 * kernels (`WiderSwaUpdate`, `WiderEmaUpdate`) instead of three elementwise kernels, and give
 * bit for bit the numbers of the other paths: the cpu backend's JS loop, and the tensor rule on
 * wasm (the same rule through `custom`). The PyTorch fixtures also run on this path
 * (`fixtureSuite` below). No tensor or heap leaks over 1,000 updates. `updateBatchNorm` computes
 * channels-last batch statistics with `WiderMoments` (no `Sum`/`SquaredDifference`), matching a
 * float64 JS oracle and the tensor path (the kernel unregistered) within float32 rounding.
 */
import * as tf from "@tensorflow/tfjs";
import * as backend from "@wider/backend";
import { disposeWeights, type Weights } from "@wider/weights";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Averager,
  custom,
  disposeState,
  ema,
  emaDecay,
  emaUpdateKernelName,
  momentsKernelName,
  swa,
  swaUpdateKernelName,
  updateBatchNorm,
} from "../src/index.js";
import { fixtureSuite } from "./fixtureSuite.js";

beforeAll(async () => {
  await backend.initWasmTraining();
});

/**
 * Seeded pseudo-random float32 values (mulberry32), with exact zeros, large values and, at every
 * 17th place, a special one: ±0, ±Inf, NaN, a subnormal, 3e38.
 */
const values = (seed: number, n: number): Float32Array => {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = i % 11 === 0 ? 0 : i % 13 === 0 ? (u - 0.5) * 1e6 : (u - 0.5) * 4;
  }
  const special = [-0, Infinity, -Infinity, Number.NaN, 1e-40, 3e38];
  for (let i = 5; i < n; i += 17) out[i] = special[(i + seed) % special.length]!;
  return out;
};

/** Weight set `k`: odd sizes (tails past the 4-lane loop), a conv kernel, an int32 buffer. */
const weightSet = (k: number): Weights => ({
  "conv/kernel": tf.tensor(values(10 * k + 1, 3 * 3 * 2 * 5), [3, 3, 2, 5]),
  "conv/bias": tf.tensor(values(10 * k + 2, 5), [5]),
  "dense/kernel": tf.tensor(values(10 * k + 3, 37 * 11), [37, 11]),
  "bn/moving_mean": tf.tensor(values(10 * k + 4, 7), [7]),
  "step/count": tf.tensor([k, k + 1, 2 * k], [3], "int32"),
});

/** Runs `avg` over 6 weight sets on `backend`; returns the final mean as plain arrays. */
const runOn = async (backend: string, avg: Averager): Promise<Record<string, Float32Array>> => {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    let s = avg.init();
    for (let k = 0; k < 6; k++) {
      const w = weightSet(k);
      s = avg.update(s, w);
      disposeWeights(w);
    }
    const out = Object.fromEntries(
      Object.entries(s.mean!).map(([k, t]) => [k, t.dataSync() as Float32Array]),
    );
    disposeState(s);
    return out;
  } finally {
    await tf.setBackend(prev);
  }
};

const emaOptions = { decay: 0.9, warmup: { gamma: 1, power: 0.75 } } as const;
const d = emaDecay(emaOptions);
const cases: ReadonlyArray<{
  label: string;
  kernel: string;
  fast: () => Averager;
  rule: Averager;
}> = [
  {
    label: "swa",
    kernel: swaUpdateKernelName,
    fast: () => swa(),
    rule: custom((m, w, n) => tf.add(m, tf.div(tf.sub(w, m), n + 1))),
  },
  {
    label: "ema (warmup)",
    kernel: emaUpdateKernelName,
    fast: () => ema(emaOptions),
    rule: custom((m, w, n) => tf.add(tf.mul(m, d(n)), tf.mul(w, 1 - d(n)))),
  },
];

describe("one-pass kernels on wasm", () => {
  it("are registered by @wider/backend under the names @wider/averaging looks up", () => {
    expect(backend.swaUpdateKernelName).toBe(swaUpdateKernelName);
    expect(backend.emaUpdateKernelName).toBe(emaUpdateKernelName);
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.getKernel(swaUpdateKernelName, "wasm")).toBeDefined();
    expect(tf.getKernel(emaUpdateKernelName, "wasm")).toBeDefined();
  });

  for (const c of cases) {
    it(`${c.label}: update runs one ${c.kernel} per tensor and no elementwise kernels`, async () => {
      const avg = c.fast();
      const w0 = weightSet(0);
      const w1 = weightSet(1);
      const s0 = avg.update(avg.init(), w0);
      let s1 = s0;
      const profile = await tf.profile(() => {
        s1 = avg.update(s0, w1);
      });
      const names = profile.kernels.map((k) => k.name);
      // 5 tensors; the int32 one is cast to float32 first.
      expect(names.filter((k) => k === c.kernel)).toHaveLength(5);
      expect(names.filter((k) => ["Sub", "RealDiv", "Add", "Mul"].includes(k))).toEqual([]);
      disposeState(s1);
      disposeWeights(w0);
      disposeWeights(w1);
    });

    it(`${c.label}: equals the cpu path and the tensor rule on wasm bit for bit`, async () => {
      const wasmFast = await runOn("wasm", c.fast());
      const wasmRule = await runOn("wasm", c.rule);
      const cpuFast = await runOn("cpu", c.fast());
      for (const key of Object.keys(wasmFast)) {
        // toEqual: NaN equals NaN, and -0 differs from +0 (Object.is).
        expect(Array.from(wasmFast[key]!), `${key} vs tensor rule on wasm`).toEqual(
          Array.from(wasmRule[key]!),
        );
        expect(Array.from(wasmFast[key]!), `${key} vs cpu`).toEqual(Array.from(cpuFast[key]!));
      }
    });
  }

  it("buffers: 'copy' still copies the latest buffers on the kernel path", () => {
    const avg = swa({ buffers: "copy" });
    const w0 = weightSet(0);
    const w1 = weightSet(1);
    let s = avg.update(avg.init(), w0);
    s = avg.update(s, w1);
    expect(Array.from(s.mean!["bn/moving_mean"]!.dataSync())).toEqual(
      Array.from(w1["bn/moving_mean"]!.dataSync()),
    );
    disposeState(s);
    disposeWeights(w0);
    disposeWeights(w1);
  });

  it("leak neither tensors nor wasm heap over 1,000 updates", () => {
    for (const avg of [swa(), ema({ decay: 0.99 })]) {
      const w = weightSet(3);
      let s = avg.update(avg.init(), w);
      for (let i = 0; i < 10; i++) s = avg.update(s, w);
      const tensors = tf.memory().numTensors;
      const heap = backend.wasmHeapBytes();
      for (let i = 0; i < 1000; i++) s = avg.update(s, w);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.wasmHeapBytes()).toBe(heap);
      disposeState(s);
      disposeWeights(w);
    }
  });
});

describe("updateBatchNorm with WiderMoments on wasm", () => {
  /** BN over [N, 4, 4, 5] (5 channels: a tail past the 4-lane loop), then over [N, 8]. */
  const build = () =>
    tf.sequential({
      layers: [
        tf.layers.batchNormalization({ inputShape: [4, 4, 5], name: "bn_conv" }),
        tf.layers.flatten(),
        tf.layers.dense({
          units: 8,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.batchNormalization({ name: "bn_dense" }),
      ],
    });
  const sizes = [6, 6, 3];
  const batches = () =>
    sizes.map((n, i) => tf.randomNormal([n, 4, 4, 5], 2, 1.5, "float32", 40 + i));
  /** Float64 oracle of the first layer: per-batch mean and unbiased variance, averaged. */
  const oracle = (xs: readonly Float32Array[], weighting: "batch" | "samples") => {
    const mean = new Float64Array(5);
    const variance = new Float64Array(5);
    let total = 0;
    xs.forEach((x, b) => {
      const w = weighting === "batch" ? 1 : sizes[b]!;
      const rows = x.length / 5;
      for (let c = 0; c < 5; c++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += x[r * 5 + c]!;
        const m = s / rows;
        let q = 0;
        for (let r = 0; r < rows; r++) q += (x[r * 5 + c]! - m) ** 2;
        mean[c]! += w * m;
        variance[c]! += (w * q) / (rows - 1);
      }
      total += w;
    });
    return { mean: [...mean].map((v) => v / total), variance: [...variance].map((v) => v / total) };
  };
  const statsOf = (m: tf.LayersModel, layer: string) =>
    m
      .getLayer(layer)
      .getWeights()
      .slice(2)
      .map((t) => Array.from(t.dataSync()));

  it("runs one WiderMoments per layer and batch, no Sum or SquaredDifference; matches the float64 oracle", async () => {
    expect(backend.momentsKernelName).toBe(momentsKernelName);
    expect(tf.getKernel(momentsKernelName, "wasm")).toBeDefined();
    const xs = batches();
    const data = xs.map((x) => x.dataSync() as Float32Array);
    for (const weighting of ["batch", "samples"] as const) {
      const m = build();
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => updateBatchNorm(m, xs, { weighting }));
      const names = profile.kernels.map((k) => k.name);
      expect(names.filter((k) => k === momentsKernelName)).toHaveLength(2 * sizes.length);
      expect(names.filter((k) => ["Sum", "SquaredDifference", "Mean"].includes(k))).toEqual([]);
      expect(tf.memory().numTensors, "no tensor left behind").toBe(before);
      const [mean, variance] = statsOf(m, "bn_conv");
      const want = oracle(data, weighting);
      for (let c = 0; c < 5; c++) {
        expect(Math.abs(mean![c]! - want.mean[c]!), `mean ${c}`).toBeLessThanOrEqual(
          1e-6 * Math.abs(want.mean[c]!),
        );
        expect(Math.abs(variance![c]! - want.variance[c]!), `variance ${c}`).toBeLessThanOrEqual(
          1e-6 * want.variance[c]!,
        );
      }
      m.dispose();
    }
    tf.dispose(xs);
  });

  it("gives the tensor path's statistics (kernel unregistered) within float32 rounding", async () => {
    const xs = batches();
    const withKernel = build();
    await updateBatchNorm(withKernel, xs);
    const config = tf.getKernel(momentsKernelName, "wasm")!;
    tf.unregisterKernel(momentsKernelName, "wasm");
    const withoutKernel = build();
    try {
      const profile = await tf.profile(() => updateBatchNorm(withoutKernel, xs));
      expect(profile.kernels.some((k) => k.name === "SquaredDifference")).toBe(true);
    } finally {
      tf.registerKernel(config);
    }
    for (const layer of ["bn_conv", "bn_dense"]) {
      const got = statsOf(withKernel, layer);
      const want = statsOf(withoutKernel, layer);
      for (let k = 0; k < 2; k++)
        for (let c = 0; c < want[k]!.length; c++)
          expect(Math.abs(got[k]![c]! - want[k]![c]!), `${layer} ${k} ${c}`).toBeLessThanOrEqual(
            1e-5 * Math.max(1, Math.abs(want[k]![c]!)),
          );
    }
    withKernel.dispose();
    withoutKernel.dispose();
    tf.dispose(xs);
  });
});

// The PyTorch fixtures again, now through the one-pass kernels (same tolerance as plain wasm).
fixtureSuite("wasm with one-pass kernels", 0.1);
