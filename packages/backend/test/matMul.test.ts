/**
 * `BatchMatMul` and `_FusedMatMul` on wasm by the direct SIMD matmul module: the committed module
 * matches wasm/matMul.wat; on a memory of its own (4-byte, not 16-byte, offsets; blocks of 1 to all
 * steps and 4 to all rows) `gemm` (A B and Aᵀ B) and `dotNT` (A Bᵀ) agree with an independent
 * float64 oracle written here on seeded random sizes (0-41; over 60 combinations of the form and
 * m mod 4, n mod 8, k mod 4)
 * within the float32 dot-product bound, and write nothing but c and their scratch. The registered
 * kernels (which must run the module: counted) agree with the oracle, tfjs's cpu kernels and the
 * XNNPACK kernels they replace (kept where the module cannot run) on 96 random products (every
 * transpose combination, batches on either side, broadcast batch axes) and 48 fused ones (bias of
 * shape [n] and [m, n], every activation); the path never depends on what ran before.
 * Neither tensors nor wasm heap leak. A result one term short fails the bound (the check can fail).
 *
 * Tolerance: each c element is a float32 sum of k float32 products, so |c - exact| <= gamma_k *
 * sum |a * b| with gamma_k = k u / (1 - k u), u = 2^-24 (recursive summation in any order, Higham,
 * "Accuracy and Stability of Numerical Algorithms", 3.1), element-wise against the float64 oracle.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWasm } from "../scripts/assembleWasm.js";
import { initWasmTraining, wasmHeapBytes } from "../src/index.js";
import {
  batchMatMul,
  batchMatMulWith,
  dotMinK,
  gemmBlocks,
  instantiateMatMul,
  type MatMulExports,
  matMulFor,
  matMulShape,
  matMulWasmBytes,
} from "../src/matMul.js";
import { untransposedFusedMatMul } from "../src/transposedMatMul.js";
import { xnnBatchMatMul } from "../src/xnnMatMul.js";
import { expectWithinBound, type HostTensor, int, normals, pick, rng, runOn } from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

/** float64 op(A) op(B) for one pair of matrices, and sum |a b| per element. */
function oracle2d(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): { value: Float64Array; abs: Float64Array } {
  const value = new Float64Array(m * n);
  const abs = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let l = 0; l < k; l++) {
        const x = a[transposeA ? l * m + i : i * k + l] as number;
        const y = b[transposeB ? j * k + l : l * n + j] as number;
        s += x * y;
        t += Math.abs(x * y);
      }
      value[i * n + j] = s;
      abs[i * n + j] = t;
    }
  return { value, abs };
}

/** The float64 batched product (broadcast batch axes) of host tensors. */
function oracle(
  a: HostTensor,
  b: HostTensor,
  transposeA: boolean,
  transposeB: boolean,
): { value: Float64Array; abs: Float64Array; shape: number[]; k: number } {
  const s = matMulShape(a.shape, b.shape, transposeA, transposeB);
  const count = s.aIndex.length;
  const value = new Float64Array(count * s.m * s.n);
  const abs = new Float64Array(value.length);
  for (let t = 0; t < count; t++) {
    const ia = (s.aIndex[t] as number) * s.m * s.k;
    const ib = (s.bIndex[t] as number) * s.k * s.n;
    const one = oracle2d(
      a.values.subarray(ia, ia + s.m * s.k),
      b.values.subarray(ib, ib + s.k * s.n),
      s.m,
      s.k,
      s.n,
      transposeA,
      transposeB,
    );
    value.set(one.value, t * s.m * s.n);
    abs.set(one.abs, t * s.m * s.n);
  }
  return { value, abs, shape: s.outShape, k: s.k };
}

const size = (r: () => number) => pick(r, [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 31, 33, 41]);

describe("matMul module", () => {
  it("the committed bytes are the assembled wasm/matMul.wat (run build:wasm after editing it)", async () => {
    expect(Buffer.from(matMulWasmBytes()).equals(Buffer.from(await assembleWasm("matMul")))).toBe(
      true,
    );
  });

  it("gemm and dotNT agree with the float64 oracle within the float32 bound, at 4-byte offsets, in blocks, writing only c", () => {
    const memory = new WebAssembly.Memory({ initial: 8 });
    const mod = instantiateMatMul(memory);
    expect(mod, "Node 20 supports WebAssembly SIMD").toBeDefined();
    const m = mod as MatMulExports;
    const r = rng(17);
    const residues = new Set<string>();
    for (let c = 0; c < 120; c++) {
      const form = pick(r, ["NN", "TN", "NT"] as const);
      const rows = c === 0 ? 0 : size(r);
      const k = c === 1 ? 0 : size(r);
      const n = c === 2 ? 0 : size(r);
      residues.add(`${form} ${rows % 4} ${n % 8} ${k % 4}`);
      const a = normals(r, rows * k);
      const b = normals(r, k * n);
      const shift = 4 * int(r, 0, 3);
      const at = { a: 64 + shift, b: 100_000 + shift, c: 200_000 + shift, spare: 300_000 + shift };
      const heap = new Float32Array(memory.buffer);
      heap.set(a, at.a / 4);
      heap.set(b, at.b / 4);
      heap.fill(12345, at.c / 4 - 4, at.c / 4 + rows * n + 4);
      const spareLen = Math.max(8, n);
      heap.fill(777, at.spare / 4 - 4, at.spare / 4 + spareLen + 4);
      const kc = pick(r, [0, 1, 2, 3, 5, 16, 1000]);
      const mc = pick(r, [1, 4, 8, 12, 1000]);
      const transposeA = form === "TN";
      if (form === "NT") m.dotNT(at.a, at.b, at.c, at.spare, rows, n, k, 4 * k, 4 * k, mc);
      else
        m.gemm(
          at.a,
          at.b,
          at.c,
          at.spare,
          rows,
          n,
          k,
          transposeA ? 4 : 4 * k,
          transposeA ? 4 * rows : 4,
          4 * n,
          kc,
          mc,
        );
      const label = `#${c} ${form} m ${rows} k ${k} n ${n} kc ${kc} mc ${mc} shift ${shift}`;
      expectWithinBound(
        new Float32Array(memory.buffer, at.c, rows * n),
        oracle2d(a, b, rows, k, n, transposeA, form === "NT"),
        k,
        label,
      );
      const sentinel = Array(4).fill(12345);
      expect(Array.from(new Float32Array(memory.buffer, at.c - 16, 4)), label).toEqual(sentinel);
      expect(Array.from(new Float32Array(memory.buffer, at.c + 4 * rows * n, 4)), label).toEqual(
        sentinel,
      );
      const around = Array(4).fill(777);
      expect(Array.from(new Float32Array(memory.buffer, at.spare - 16, 4)), label).toEqual(around);
      expect(
        Array.from(new Float32Array(memory.buffer, at.spare + 4 * spareLen, 4)),
        label,
      ).toEqual(around);
      expect(Buffer.from(memory.buffer, at.a, 4 * a.length).equals(Buffer.from(a.buffer))).toBe(
        true,
      );
      expect(Buffer.from(memory.buffer, at.b, 4 * b.length).equals(Buffer.from(b.buffer))).toBe(
        true,
      );
    }
    expect(residues.size, "many combinations of m % 4, n % 8, k % 4 per form").toBeGreaterThan(60);
  });

  it("the bound check rejects a product one term short (mutation sanity)", () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const m = instantiateMatMul(memory) as MatMulExports;
    const r = rng(5);
    const [rows, k, n] = [9, 13, 11];
    const a = normals(r, rows * k);
    const b = normals(r, k * n);
    const heap = new Float32Array(memory.buffer);
    heap.set(a, 0);
    heap.set(b, 1000);
    // rows of A still k floats apart, but only k - 1 terms summed
    m.gemm(0, 4000, 8000, 12000, rows, n, k - 1, 4 * k, 4, 4 * n, 0, 4);
    const short = new Float32Array(memory.buffer, 8000, rows * n);
    expect(() =>
      expectWithinBound(short, oracle2d(a, b, rows, k, n, false, false), k, "short"),
    ).toThrow();
    m.gemm(0, 4000, 8000, 12000, rows, n, k, 4 * k, 4, 4 * n, 0, 4);
    expectWithinBound(
      new Float32Array(memory.buffer, 8000, rows * n),
      oracle2d(a, b, rows, k, n, false, false),
      k,
      "full",
    );
  });

  it("blocks: kc at most 256 steps, mc a multiple of 4 with mc * kc within the budget", () => {
    expect(gemmBlocks(784)).toEqual({ kc: 256, mc: 64 });
    expect(gemmBlocks(64)).toEqual({ kc: 64, mc: 256 });
    expect(gemmBlocks(0).mc % 4).toBe(0);
  });

  it("matMulShape broadcasts batch axes like tfjs and refuses ones that do not", () => {
    const s = matMulShape([2, 1, 3, 4], [3, 4, 5], false, false);
    expect(s.outShape).toEqual([2, 3, 3, 5]);
    expect(Array.from(s.aIndex)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(s.bIndex)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(() => matMulShape([2, 3, 4], [3, 4, 5], false, false)).toThrow();
  });
});

/** A registered test kernel, removed by the returned function. */
function withKernel(name: string, kernelFunc: tf.KernelFunc): () => void {
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc });
  return () => tf.unregisterKernel(name, "wasm");
}

/** The module of the backend, counting its calls in `calls`. */
function counting(calls: { n: number }) {
  return (backend: BackendWasm): MatMulExports | undefined => {
    const m = matMulFor(backend);
    if (m === undefined) return undefined;
    return {
      gemm: (...args) => {
        calls.n++;
        m.gemm(...args);
      },
      dotNT: (...args) => {
        calls.n++;
        m.dotNT(...args);
      },
    };
  };
}

/** Random batch axes for a and b that broadcast (either side 1, equal, or missing). */
function batchAxes(r: () => number): [number[], number[]] {
  return pick(r, [
    [[], []],
    [[3], []],
    [[], [2]],
    [[2], [2]],
    [[2, 1], [3]],
    [
      [1, 2],
      [3, 1],
    ],
    [[4], [1]],
    [[1], [3]],
  ] as [number[], number[]][]);
}

describe("BatchMatMul on wasm", () => {
  it("is the registered kernel and finds the module on the backend's own memory", () => {
    expect(tf.getKernel("BatchMatMul", "wasm")?.kernelFunc).toBe(batchMatMul);
    const m = matMulFor(tf.backend() as BackendWasm);
    expect(m).toBeDefined();
    expect(matMulFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(m);
  });

  it("runs the module; agrees with the oracle, tfjs's cpu kernel and the XNNPACK kernel on 96 random products", () => {
    const calls = { n: 0 };
    const done = [
      withKernel("TestMatMulModule", batchMatMulWith(counting(calls))),
      withKernel("TestMatMulXnnpack", xnnBatchMatMul),
    ];
    const r = rng(99);
    const forms = new Set<string>();
    let broadcast = 0;
    let cpuCompared = 0;
    try {
      for (let c = 0; c < 96; c++) {
        const transposeA = c % 2 === 1;
        const transposeB = c % 4 >= 2;
        const [ba, bb] = batchAxes(r);
        const m = size(r) || 1;
        const n = size(r) || 1;
        // k on both sides of dotMinK (A Bᵀ: dot form or B transposed first)
        const k = c % 8 < 4 ? int(r, 1, 12) : int(r, dotMinK - 2, dotMinK + 40);
        const aShape = [...ba, ...(transposeA ? [k, m] : [m, k])];
        const bShape = [...bb, ...(transposeB ? [n, k] : [k, n])];
        if (ba.length !== bb.length || ba.some((d, i) => d !== bb[i])) broadcast++;
        forms.add(`${transposeA} ${transposeB}`);
        const vol = (s: number[]) => s.reduce((p, q) => p * q, 1);
        const a: HostTensor = { values: normals(r, vol(aShape)), shape: aShape, dtype: "float32" };
        const b: HostTensor = { values: normals(r, vol(bShape)), shape: bShape, dtype: "float32" };
        const attrs = { transposeA, transposeB };
        const label = `#${c} a[${aShape}] b[${bShape}] tA ${transposeA} tB ${transposeB}`;
        const want = oracle(a, b, transposeA, transposeB);
        const before = calls.n;
        const got = runOn("wasm", "BatchMatMul", { a, b }, attrs);
        const module = runOn("wasm", "TestMatMulModule", { a, b }, attrs);
        expect(calls.n, `${label}: ran the module`).toBeGreaterThan(before);
        const xnn = runOn("wasm", "TestMatMulXnnpack", { a, b }, attrs);
        expect(got.shape, label).toEqual(want.shape);
        expect(Array.from(module.values), `module ${label}`).toEqual(Array.from(got.values));
        expectWithinBound(got.values, want, want.k, `module ${label}`);
        expectWithinBound(xnn.values, want, want.k, `XNNPACK ${label}`);
        // tfjs's cpu kernel pairs matrices by index modulo each side's batch count: right where
        // one side has one matrix or both as many, wrong for e.g. [1, 2] against [3, 1]
        const batches = (s: number[]) => s.slice(0, -2).reduce((p, q) => p * q, 1);
        const [na, nb] = [batches(aShape), batches(bShape)];
        if (na === 1 || nb === 1 || (na === nb && ba.length === bb.length)) {
          cpuCompared++;
          const cpu = runOn("cpu", "BatchMatMul", { a, b }, attrs);
          expect(cpu.shape, label).toEqual(want.shape);
          // cpu sums blocks of k in float64, rounding to float32 between them: within gamma_k
          expectWithinBound(cpu.values, want, want.k, `cpu ${label}`);
          const cpuAsRef = { value: Float64Array.from(cpu.values), abs: want.abs };
          expectWithinBound(got.values, cpuAsRef, 2 * want.k, `wasm vs cpu ${label}`);
        }
      }
    } finally {
      for (const d of done) d();
    }
    expect(forms.size).toBe(4);
    expect(broadcast, "products with broadcast batch axes").toBeGreaterThan(40);
    expect(cpuCompared, "products compared with the cpu kernel").toBeGreaterThan(60);
  });

  it("takes the same path whatever ran before: a b used again (weights over many batches) gives the same bits, fused or not", () => {
    const calls = { n: 0 };
    const done = [
      withKernel("TestMatMulAgain", batchMatMulWith(counting(calls))),
      withKernel("TestFusedAgain", untransposedFusedMatMul(counting(calls))),
    ];
    tf.setBackend("wasm");
    try {
      const a = tf.randomNormal([6, 20], 0, 1, "float32", 1);
      const w = tf.randomNormal([20, 9], 0, 1, "float32", 2);
      const bias = tf.randomNormal([9], 0, 1, "float32", 3);
      const attrs = (transposeB: boolean, fused: boolean) =>
        ({
          transposeA: false,
          transposeB,
          ...(fused ? { activation: "relu" } : {}),
        }) as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2];
      const run = (b: tf.Tensor, transposeB = false) =>
        tf.engine().runKernel("TestMatMulAgain", { a, b }, attrs(transposeB, false)) as tf.Tensor;
      const fused = (b: tf.Tensor) =>
        tf.engine().runKernel("TestFusedAgain", { a, b, bias }, attrs(false, true)) as tf.Tensor;
      const products = [run(w), run(w), run(w)];
      const wt = tf.transpose(w);
      products.push(run(wt, true), run(wt, true));
      const withBias = [fused(w), fused(w), fused(w)];
      // Every call ran the module: the path does not depend on whether b was seen before.
      expect(calls.n).toBe(8);
      const bits = (t: tf.Tensor) =>
        Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
      for (const t of products) expect(bits(t)).toEqual(bits(products[0]!));
      for (const t of withBias) expect(bits(t)).toEqual(bits(withBias[0]!));
      // And a fresh copy of the same weights (as a resumed run loads them) gives the same bits too.
      const copy = tf.tensor(w.dataSync(), w.shape);
      expect(bits(run(copy))).toEqual(bits(products[0]!));
      expect(bits(fused(copy))).toEqual(bits(withBias[0]!));
      tf.dispose([a, w, wt, bias, copy, ...products, ...withBias]);
    } finally {
      for (const d of done) d();
    }
  });

  it("empty operands: k = 0 gives zeros, m = 0 or a batch of 0 an empty result", () => {
    tf.setBackend("wasm");
    const z = tf.tidy(() => tf.matMul(tf.ones([3, 0]), tf.ones([0, 4])));
    expect(z.shape).toEqual([3, 4]);
    expect(Array.from(z.dataSync())).toEqual(Array(12).fill(0));
    const e = tf.tidy(() => tf.matMul(tf.ones([0, 5]), tf.ones([5, 4]), false, false));
    expect(e.shape).toEqual([0, 4]);
    const eb = tf.tidy(() => tf.matMul(tf.ones([0, 2, 5]), tf.ones([5, 4])));
    expect(eb.shape).toEqual([0, 2, 4]);
    tf.dispose([z, e, eb]);
  });

  it("leaks neither tensors nor wasm heap over 300 calls (every form, batched and broadcast)", () => {
    tf.setBackend("wasm");
    const a = tf.randomNormal([2, 9, 40], 0, 1, "float32", 3);
    const b = tf.randomNormal([40, 7], 0, 1, "float32", 4);
    const bt = tf.randomNormal([3, 1, 7, 40], 0, 1, "float32", 5);
    const run = (i: number) =>
      tf.tidy(() => {
        const bb = tf.add(b, 0); // a new b each call: the module path
        switch (i % 4) {
          case 0:
            return tf.matMul(a, bb);
          case 1:
            return tf.matMul(a, bt, false, true);
          case 2:
            return tf.matMul(a, tf.add(a, 1), true, false);
          default:
            return tf.matMul(tf.transpose(a, [0, 2, 1]), bt, true, true);
        }
      });
    for (let i = 0; i < 4; i++) tf.dispose(run(i));
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 300; i++) tf.dispose(run(i));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose([a, b, bt]);
  });
});

const activations = ["linear", "relu", "relu6", "sigmoid", "elu", "leakyrelu", "prelu"] as const;

/** float64 activation of v (prelu and leakyrelu with slope `alpha` below zero). */
function act(name: (typeof activations)[number], v: number, alpha: number): number {
  switch (name) {
    case "linear":
      return v;
    case "relu":
      return Math.max(0, v);
    case "relu6":
      return Math.min(6, Math.max(0, v));
    case "sigmoid":
      return 1 / (1 + Math.exp(-v));
    case "elu":
      return v >= 0 ? v : Math.exp(v) - 1;
    default:
      return v >= 0 ? v : alpha * v;
  }
}

describe("_FusedMatMul on wasm", () => {
  it("runs the module; agrees with the oracle, tfjs's cpu kernel and the XNNPACK path on 48 fused products", () => {
    const calls = { n: 0 };
    const done = [
      withKernel("TestFusedModule", untransposedFusedMatMul(counting(calls))),
      withKernel(
        "TestFusedXnnpack",
        untransposedFusedMatMul(() => undefined),
      ),
    ];
    const r = rng(2024);
    try {
      for (let c = 0; c < 48; c++) {
        const activation = activations[c % activations.length] as (typeof activations)[number];
        const transposeA = c % 2 === 1;
        const transposeB = c % 4 >= 2;
        const m = size(r) || 1;
        const n = size(r) || 1;
        const k = int(r, 1, 45);
        // rank 3, as tfjs's fused.matMul op passes them (the original kernel reads shape[1..2])
        const batch = c % 3 === 0 ? [2] : [1];
        const aShape = [...batch, ...(transposeA ? [k, m] : [m, k])];
        const bShape = [...batch, ...(transposeB ? [n, k] : [k, n])];
        const biasShape = c % 5 === 0 ? [m, n] : [n];
        const vol = (s: number[]) => s.reduce((p, q) => p * q, 1);
        const host = (shape: number[]): HostTensor => ({
          values: normals(r, vol(shape)),
          shape,
          dtype: "float32",
        });
        const a = host(aShape);
        const b = host(bShape);
        const bias = host(biasShape);
        const alpha = 0.2;
        const inputs: Record<string, HostTensor> = { a, b, bias };
        if (activation === "prelu")
          inputs.preluActivationWeights = {
            values: new Float32Array(n).fill(alpha),
            shape: [n],
            dtype: "float32",
          };
        const attrs = { transposeA, transposeB, activation, leakyreluAlpha: alpha };
        const label = `#${c} a[${aShape}] b[${bShape}] bias[${biasShape}] ${activation} tA ${transposeA} tB ${transposeB}`;
        const product = oracle(a, b, transposeA, transposeB);
        // bias broadcast over the output's leading axes, then the activation (1-Lipschitz)
        const value = new Float64Array(product.value.length);
        const abs = new Float64Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const bv = bias.values[i % vol(biasShape)] as number;
          value[i] = act(activation, (product.value[i] as number) + bv, alpha);
          abs[i] = (product.abs[i] as number) + Math.abs(bv);
        }
        // one more rounding (the bias add); sigmoid and elu computed in float32 besides
        const slack =
          activation === "sigmoid" || activation === "elu"
            ? (v: number) => 1e-6 + 4 * 2 ** -24 * Math.abs(v)
            : () => 0;
        const before = calls.n;
        let got: ReturnType<typeof runOn>;
        try {
          got = runOn("wasm", "_FusedMatMul", inputs, attrs);
        } catch (e) {
          throw new Error(`${label}: ${String(e)}`);
        }
        const module = runOn("wasm", "TestFusedModule", inputs, attrs);
        expect(calls.n, `${label}: ran the module`).toBeGreaterThan(before);
        // The XNNPACK path's original kernel takes only a rank-1 bias: compared where it applies.
        const xnnApplies = biasShape.length === 1;
        let xnn: ReturnType<typeof runOn> | undefined;
        try {
          xnn = xnnApplies ? runOn("wasm", "TestFusedXnnpack", inputs, attrs) : undefined;
        } catch (e) {
          throw new Error(`XNNPACK ${label}: ${String(e)}`);
        }
        const cpu = runOn("cpu", "_FusedMatMul", inputs, attrs);
        expect(got.shape, label).toEqual(product.shape);
        expect(cpu.shape, label).toEqual(product.shape);
        expect(Array.from(module.values), `module ${label}`).toEqual(Array.from(got.values));
        expectWithinBound(got.values, { value, abs }, k + 1, `module ${label}`, slack);
        if (xnn !== undefined)
          expectWithinBound(xnn.values, { value, abs }, k + 1, `XNNPACK ${label}`, slack);
        expectWithinBound(cpu.values, { value, abs }, k + 1, `cpu ${label}`, slack);
      }
    } finally {
      for (const d of done) d();
    }
  });

  it("leaks neither tensors nor wasm heap over 200 fused calls", () => {
    tf.setBackend("wasm");
    const x = tf.randomNormal([16, 30], 0, 1, "float32", 6);
    const w = tf.randomNormal([30, 12], 0, 1, "float32", 7);
    const wt = tf.randomNormal([12, 30], 0, 1, "float32", 9);
    const bias = tf.randomNormal([12], 0, 1, "float32", 8);
    const run = (i: number) =>
      tf.tidy(() =>
        tf.fused.matMul({
          a: x,
          b: tf.add(i % 2 === 1 ? wt : w, 0),
          transposeB: i % 2 === 1,
          bias,
          activation: i % 3 === 0 ? "relu" : "linear",
        }),
      );
    for (let i = 0; i < 6; i++) tf.dispose(run(i));
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 200; i++) tf.dispose(run(i));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose([x, w, wt, bias]);
  });
});
