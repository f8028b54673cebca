/**
 * Each kernel registered on wasm against the cpu backend (or a naive reference where cpu
 * does not implement the attribute), on seeded random shapes: strides 1-3,
 * same/valid/explicit padding, odd sizes, batch 1, max-pool ties.
 * Tolerance: |wasm - ref| <= 1e-4 * max|ref| + 1e-5 element-wise (float32).
 */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initWasmTraining, wasmTrainingKernels } from "../src/index.js";
import { planMatMul } from "../src/xnnMatMul.js";
import { expectClose, type HostTensor, hostNormal, int, pick, rng, runOn } from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

type Pad = "same" | "valid" | number[][];

interface ConvCase {
  readonly b: number;
  readonly h: number;
  readonly w: number;
  readonly ci: number;
  readonly co: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly pad: Pad;
  readonly label: string;
}

function convCase(r: () => number, i: number): ConvCase {
  const b = i % 4 === 0 ? 1 : int(r, 1, 3);
  const h = int(r, 3, 12);
  const w = int(r, 3, 12);
  const kh = int(r, 1, Math.min(5, h));
  const kw = int(r, 1, Math.min(5, w));
  const sh = int(r, 1, 3);
  const sw = int(r, 1, 3);
  const kind = pick(r, ["same", "valid", "explicit"] as const);
  const pad: Pad =
    kind === "explicit"
      ? [
          [0, 0],
          [int(r, 0, kh - 1), int(r, 0, kh - 1)],
          [int(r, 0, kw - 1), int(r, 0, kw - 1)],
          [0, 0],
        ]
      : kind;
  const ci = int(r, 1, 4);
  const co = int(r, 1, 5);
  return {
    b,
    h,
    w,
    ci,
    co,
    kh,
    kw,
    sh,
    sw,
    pad,
    label: `#${i} x[${b},${h},${w},${ci}] k${kh}x${kw} s${sh}x${sw} ${JSON.stringify(pad)} co${co}`,
  };
}

function outSize(n: number, k: number, s: number, pad: Pad, axis: 1 | 2): number {
  if (pad === "same") return Math.ceil(n / s);
  if (pad === "valid") return Math.ceil((n - k + 1) / s);
  const p = pad[axis] as number[];
  return Math.floor((n + (p[0] as number) + (p[1] as number) - k) / s) + 1;
}

function both(
  name: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
  label: string,
): void {
  const want = runOn("cpu", name, inputs, attrs);
  const got = runOn("wasm", name, inputs, attrs);
  expectClose(got, want, `${name} ${label}`);
}

describe("registration", () => {
  it("registers every listed kernel on wasm, idempotently", async () => {
    const { registerWasmTrainingKernels } = await import("../src/index.js");
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    for (const k of wasmTrainingKernels) {
      expect(tf.getKernel(k.kernelName, "wasm"), k.kernelName).toBeDefined();
    }
    expect(tf.getBackend()).toBe("wasm");
  });
});

describe("Conv2DBackpropFilter / Conv2DBackpropInput vs cpu", () => {
  const r = rng(11);
  const cases = Array.from({ length: 40 }, (_, i) => convCase(r, i)).filter(
    (c) => outSize(c.h, c.kh, c.sh, c.pad, 1) > 0 && outSize(c.w, c.kw, c.sw, c.pad, 2) > 0,
  );
  it.each(cases.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const oh = outSize(c.h, c.kh, c.sh, c.pad, 1);
    const ow = outSize(c.w, c.kw, c.sw, c.pad, 2);
    const x = hostNormal(r, [c.b, c.h, c.w, c.ci]);
    const dy = hostNormal(r, [c.b, oh, ow, c.co]);
    const filter = hostNormal(r, [c.kh, c.kw, c.ci, c.co]);
    const common = {
      strides: [c.sh, c.sw],
      pad: c.pad,
      dataFormat: "NHWC",
      dimRoundingMode: undefined,
    };
    both("Conv2DBackpropFilter", { x, dy }, { ...common, filterShape: filter.shape }, c.label);
    both("Conv2DBackpropInput", { dy, filter }, { ...common, inputShape: x.shape }, c.label);
  });
});

/** Naive depthwise gradients with dilation (the cpu kernels ignore dilation). */
function depthwiseReference(
  x: HostTensor,
  filter: HostTensor,
  dy: HostTensor,
  s: [number, number],
  d: [number, number],
  padTop: number,
  padLeft: number,
): { dx: Float32Array; dw: Float32Array } {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , m] = filter.shape as [number, number, number, number];
  const [, oh, ow] = dy.shape as [number, number, number, number];
  const dx = new Float32Array(b * h * w * c);
  const dw = new Float32Array(kh * kw * c * m);
  for (let n = 0; n < b; n++)
    for (let yr = 0; yr < oh; yr++)
      for (let yc = 0; yc < ow; yc++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const xr = yr * s[0] + i * d[0] - padTop;
            const xc = yc * s[1] + j * d[1] - padLeft;
            if (xr < 0 || xr >= h || xc < 0 || xc >= w) continue;
            for (let ch = 0; ch < c; ch++)
              for (let q = 0; q < m; q++) {
                const g = dy.values[((n * oh + yr) * ow + yc) * c * m + ch * m + q] as number;
                const xi = ((n * h + xr) * w + xc) * c + ch;
                const fi = ((i * kw + j) * c + ch) * m + q;
                dx[xi] = (dx[xi] as number) + g * (filter.values[fi] as number);
                dw[fi] = (dw[fi] as number) + g * (x.values[xi] as number);
              }
          }
  return { dx, dw };
}

describe("DepthwiseConv2dNativeBackpropInput / Filter", () => {
  const r = rng(23);
  const cases = Array.from({ length: 30 }, (_, i) => convCase(r, i)).filter(
    (c) => outSize(c.h, c.kh, c.sh, c.pad, 1) > 0 && outSize(c.w, c.kw, c.sw, c.pad, 2) > 0,
  );
  it.each(cases.map((c) => [c.label, c] as const))("vs cpu %s", (_label, c) => {
    const m = (c.co % 3) + 1;
    const oh = outSize(c.h, c.kh, c.sh, c.pad, 1);
    const ow = outSize(c.w, c.kw, c.sw, c.pad, 2);
    const x = hostNormal(r, [c.b, c.h, c.w, c.ci]);
    const dy = hostNormal(r, [c.b, oh, ow, c.ci * m]);
    const filter = hostNormal(r, [c.kh, c.kw, c.ci, m]);
    const common = {
      strides: [c.sh, c.sw],
      dilations: [1, 1],
      pad: c.pad,
      dimRoundingMode: undefined,
    };
    both(
      "DepthwiseConv2dNativeBackpropFilter",
      { x, dy },
      { ...common, filterShape: filter.shape },
      c.label,
    );
    both(
      "DepthwiseConv2dNativeBackpropInput",
      { dy, filter },
      { ...common, inputShape: x.shape },
      c.label,
    );
  });

  it.each([
    [1, 9, 2, 2, 1, "valid"],
    [2, 11, 3, 2, 2, "same"],
    [1, 8, 3, 3, 1, "same"],
    [3, 10, 2, 2, 3, "valid"],
  ] as const)(
    "dilated, vs a naive reference: b%i h%i k%i d%i m%i %s",
    (b, h, k, dil, m, padKind) => {
      const c = 3;
      const eff = (k - 1) * dil + 1;
      const o = padKind === "same" ? h : h - eff + 1;
      const padTop = padKind === "same" ? Math.floor((eff - 1) / 2) : 0;
      const x = hostNormal(r, [b, h, h, c]);
      const dy = hostNormal(r, [b, o, o, c * m]);
      const filter = hostNormal(r, [k, k, c, m]);
      const ref = depthwiseReference(x, filter, dy, [1, 1], [dil, dil], padTop, padTop);
      const common = {
        strides: [1, 1],
        dilations: [dil, dil],
        pad: padKind,
        dimRoundingMode: undefined,
      };
      const dw = runOn(
        "wasm",
        "DepthwiseConv2dNativeBackpropFilter",
        { x, dy },
        { ...common, filterShape: filter.shape },
      );
      const dx = runOn(
        "wasm",
        "DepthwiseConv2dNativeBackpropInput",
        { dy, filter },
        { ...common, inputShape: x.shape },
      );
      expectClose(dw, { values: ref.dw, shape: filter.shape }, "dilated filter grad");
      expectClose(dx, { values: ref.dx, shape: x.shape }, "dilated input grad");
    },
  );
});

describe("MaxPoolGrad vs cpu (first maximum on ties)", () => {
  const r = rng(37);
  const cases = Array.from({ length: 30 }, (_, i) => {
    const b = i % 4 === 0 ? 1 : int(r, 1, 3);
    const h = int(r, 2, 11);
    const w = int(r, 2, 11);
    const fh = int(r, 1, Math.min(4, h));
    const fw = int(r, 1, Math.min(4, w));
    const sh = int(r, 1, 3);
    const sw = int(r, 1, 3);
    const pad = pick(r, ["same", "valid"] as const);
    const ties = i % 2 === 0;
    return {
      b,
      h,
      w,
      c: int(r, 1, 4),
      fh,
      fw,
      sh,
      sw,
      pad,
      ties,
      label: `#${i} [${b},${h},${w}] f${fh}x${fw} s${sh}x${sw} ${pad}${ties ? " ties" : ""}`,
    };
  });
  // The even-pool / same-padding / odd-input case the wasm package gets wrong, explicitly.
  cases.push({
    b: 1,
    h: 5,
    w: 7,
    c: 2,
    fh: 2,
    fw: 2,
    sh: 2,
    sw: 2,
    pad: "same",
    ties: true,
    label: "even pool, same, odd input",
  });
  it.each(cases.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const n = c.b * c.h * c.w * c.c;
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = c.ties ? int(r, 0, 2) : (r() - 0.5) * 4;
    const x: HostTensor = { values: xs, shape: [c.b, c.h, c.w, c.c], dtype: "float32" };
    const attrs = {
      filterSize: [c.fh, c.fw],
      strides: [c.sh, c.sw],
      pad: c.pad,
      dimRoundingMode: undefined,
    };
    const y = runOn("cpu", "MaxPool", { x }, attrs);
    const out: HostTensor = { values: y.values as Float32Array, shape: y.shape, dtype: "float32" };
    const dy = hostNormal(r, y.shape);
    both("MaxPoolGrad", { dy, input: x, output: out }, attrs, c.label);
    // Without the pooled output the wasm kernel searches with a strict '>' instead.
    expectClose(
      runOn("wasm", "MaxPoolGrad", { dy, input: x }, attrs),
      runOn("cpu", "MaxPoolGrad", { dy, input: x, output: out }, attrs),
      `MaxPoolGrad without output ${c.label}`,
    );
  });
});

describe("AvgPoolGrad (the wasm package's own kernel, kept) vs cpu", () => {
  const r = rng(43);
  const cases = Array.from({ length: 16 }, (_, i) => {
    const h = int(r, 2, 11);
    const w = int(r, 2, 11);
    const f = [int(r, 1, Math.min(4, h)), int(r, 1, Math.min(4, w))];
    const s = [int(r, 1, 3), int(r, 1, 3)];
    const pad = pick(r, ["same", "valid"] as const);
    return { b: i % 4 === 0 ? 1 : int(r, 1, 3), h, w, c: int(r, 1, 3), f, s, pad };
  });
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))("%s", (label, c) => {
    const x = hostNormal(r, [c.b, c.h, c.w, c.c]);
    const attrs = { filterSize: c.f, strides: c.s, pad: c.pad, dimRoundingMode: undefined };
    const y = runOn("cpu", "AvgPool", { x }, attrs);
    const dy = hostNormal(r, y.shape);
    both("AvgPoolGrad", { dy, input: x }, attrs, label);
  });
});

describe("UnsortedSegmentSum vs cpu", () => {
  const r = rng(41);
  it.each([
    [[7], 4, "float32"],
    [[12, 5], 6, "float32"],
    [[3, 4, 2], 5, "float32"],
    [[9, 3], 3, "int32"],
    [[1, 8], 10, "float32"],
  ] as const)("x%j numSegments %i %s", (shape, numSegments, dtype) => {
    const size = shape.reduce((a: number, b: number) => a * b, 1);
    const x: HostTensor =
      dtype === "int32"
        ? {
            values: Int32Array.from({ length: size }, () => int(r, -9, 9)),
            shape: [...shape],
            dtype,
          }
        : hostNormal(r, [...shape]);
    // ids include out-of-range and negative values, which both backends must drop.
    const ids: HostTensor = {
      values: Int32Array.from({ length: shape[0] }, () => int(r, -1, numSegments)),
      shape: [shape[0]],
      dtype: "int32",
    };
    both("UnsortedSegmentSum", { x, segmentIds: ids }, { numSegments }, `${shape}`);
  });
});

describe("BatchMatMul / _FusedMatMul with transposes vs cpu", () => {
  const r = rng(53);
  const combos = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const;
  const cases = combos.flatMap(([ta, tb]) =>
    [1, 3].map((batch) => {
      const m = int(r, 1, 9);
      const k = int(r, 1, 9);
      const n = int(r, 1, 9);
      return { ta, tb, batch, m, k, n, label: `tA=${ta} tB=${tb} batch${batch} ${m}x${k}x${n}` };
    }),
  );
  it.each(cases.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const a = hostNormal(r, c.ta ? [c.batch, c.k, c.m] : [c.batch, c.m, c.k]);
    const b = hostNormal(r, c.tb ? [c.batch, c.n, c.k] : [c.batch, c.k, c.n]);
    both("BatchMatMul", { a, b }, { transposeA: c.ta, transposeB: c.tb }, c.label);
    const bias = hostNormal(r, [c.n]);
    both(
      "_FusedMatMul",
      { a, b, bias },
      { transposeA: c.ta, transposeB: c.tb, activation: "relu", leakyreluAlpha: 0 },
      c.label,
    );
  });

  it.each([
    [128, 784, 512],
    [784, 128, 512],
    [128, 256, 512],
    [3, 200, 150],
    [150, 200, 3],
  ] as const)(
    "MLP-sized %ix%ix%i with every transpose (both orientations of the plan)",
    (m, k, n) => {
      for (const [ta, tb] of combos) {
        const a = hostNormal(r, ta ? [1, k, m] : [1, m, k]);
        const b = hostNormal(r, tb ? [1, n, k] : [1, k, n]);
        both(
          "BatchMatMul",
          { a, b },
          { transposeA: ta, transposeB: tb },
          `${m}x${k}x${n} ${ta} ${tb}`,
        );
      }
    },
  );

  it("batched operands: folded (b unbatched), looped (both batched), rank 4", () => {
    const a = hostNormal(r, [2, 3, 4, 5]);
    const b = hostNormal(r, [5, 6]);
    both("BatchMatMul", { a, b }, { transposeA: false, transposeB: false }, "fold");
    const c = hostNormal(r, [2, 3, 5, 6]);
    both("BatchMatMul", { a, b: c }, { transposeA: false, transposeB: false }, "loop");
    both("BatchMatMul", { a: c, b: c }, { transposeA: true, transposeB: false }, "loop tA");
    const d = hostNormal(r, [1, 4, 6]);
    both("BatchMatMul", { a: d, b: c }, { transposeA: false, transposeB: true }, "a broadcast, tB");
    const e = hostNormal(r, [1, 1, 4, 6]);
    both(
      "BatchMatMul",
      { a: e, b: c },
      { transposeA: false, transposeB: true },
      "same rank, a broadcast",
    );
  });

  it("plans (BᵀAᵀ)ᵀ only where packing B would clearly dominate", () => {
    // MLP first layer forward: x 128x784, W 784x512 new each step -> pack xᵀ instead of W.
    expect(planMatMul(128, 784, 512, false, false, false, false).swapped).toBe(true);
    // Same, but W already packed (fixed weights): direct.
    expect(planMatMul(128, 784, 512, false, false, false, true).swapped).toBe(false);
    // Weight gradient xᵀ dy: dy (128x512) is the small one already.
    expect(planMatMul(784, 128, 512, true, false, false, false).swapped).toBe(false);
  });

  it("broadcasts a rank-2 operand over a batch", () => {
    const a = hostNormal(r, [4, 5, 3]);
    const b = hostNormal(r, [6, 5]);
    both("BatchMatMul", { a, b }, { transposeA: true, transposeB: true }, "broadcast");
  });
});

describe("no leaks inside the kernels", () => {
  it("keeps the tensor and data-buffer counts", () => {
    tf.setBackend("wasm");
    const r = rng(61);
    const x = tf.tensor(hostNormal(r, [2, 9, 9, 3]).values, [2, 9, 9, 3]);
    const f = tf.tensor(hostNormal(r, [3, 3, 3, 2]).values, [3, 3, 3, 2]);
    const df = tf.tensor(hostNormal(r, [3, 3, 3, 2]).values, [3, 3, 3, 2]);
    const step = () =>
      tf.tidy(() => {
        const [gx, gw] = tf.grads((a: tf.Tensor, w: tf.Tensor) =>
          tf.maxPool(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, "same"), 2, 2, "same").sum(),
        )([x, f]);
        const [hx, hw] = tf.grads((a: tf.Tensor, w: tf.Tensor) =>
          tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, 2, "valid").sum(),
        )([x, df]);
        const m = tf.matMul(tf.reshape(x, [18, 27]), tf.reshape(x, [18, 27]), true, false);
        const s = tf.unsortedSegmentSum(
          tf.reshape(x, [18, 27]),
          tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], "int32"),
          3,
        );
        return [gx, gw, hx, hw, m, s]
          .map((t) => (t as tf.Tensor).sum())
          .reduce((p, q) => p.add(q))
          .dataSync();
      });
    step();
    const before = tf.memory();
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const ids = backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(backend.numDataIds()).toBe(ids);
    tf.dispose([x, f, df]);
  });
});

describe("Sum (leading axes by a heap loop, others delegated) vs cpu", () => {
  const r = rng(71);
  it.each([
    [[6, 5], [0], false],
    [[4, 3, 5, 2], [0, 1, 2], false],
    [[4, 3, 5, 2], [-4, -3], true],
    [[3, 7], [1], false],
    [[2, 3, 4], [0, 2], true],
    [[1, 9], [0], false],
    [[5], [0], false],
  ] as const)("x%j axis %j keepDims %s", (shape, axis, keepDims) => {
    const x = hostNormal(r, [...shape]);
    both("Sum", { x }, { axis: [...axis], keepDims }, `${shape}`);
  });
});

describe("Identity and same-dtype Cast share data safely", () => {
  it("a clone outlives its source; casts to another dtype still convert", () => {
    tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1.5, -2.25, 3]);
    const b = tf.clone(a);
    const c = tf.cast(a, "float32");
    const d = tf.cast(a, "int32");
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1.5, -2.25, 3]);
    expect(Array.from(c.dataSync())).toEqual([1.5, -2.25, 3]);
    expect(Array.from(d.dataSync())).toEqual([1, -2, 3]);
    const v = tf.variable(b);
    const e = tf.tensor1d([7, 8, 9]);
    v.assign(e);
    expect(Array.from(b.dataSync())).toEqual([1.5, -2.25, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([b, c, d, e, v]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
