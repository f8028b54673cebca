/**
 * `MaxPoolGrad` on wasm: the committed module matches wasm/maxPoolGrad.wat; the SIMD module on a
 * memory of its own equals, bit for bit, the JS loops it replaced (kept as the fallback) on
 * seeded random geometries (odd sizes, channel counts around the 4-lane groups, strides 1-3,
 * same / valid / numeric / explicit padding including windows that miss the input), 4-byte (not
 * 16-byte) offsets, ties, NaN, +-Infinity and pooled outputs that match nothing, with and
 * without the pooled output; it writes every element of dx and nothing around it. The registered
 * kernel (which must really run the module on the backend's memory) equals its fallback bit for
 * bit and tfjs's cpu kernel: exactly where windows do not overlap (one addition per element),
 * within float32 tolerance where they do (cpu adds the contributions in another order).
 * Bad input is refused; neither tensors nor wasm heap leak.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util } from "@tensorflow/tfjs-core";
import { isWiderError, WiderFailure } from "@wider/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWasm } from "../scripts/assembleWasm.js";
import { initWasmTraining, wasmHeapBytes } from "../src/index.js";
import {
  firstEqual,
  firstGreater,
  type Geometry,
  instantiateMaxPoolGrad,
  type MaxPoolGradExports,
  maxPoolGrad,
  maxPoolGradFor,
  maxPoolGradWasmBytes,
  maxPoolGradWith,
} from "../src/maxPoolGrad.js";
import {
  type ConvPad,
  expectClose,
  expectSameFloats,
  type HostTensor,
  int,
  normals,
  padOf,
  pick,
  rng,
  runOn,
} from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

interface Case {
  readonly shape: [number, number, number, number];
  readonly filterSize: [number, number];
  readonly strides: [number, number];
  readonly pad: ConvPad;
  readonly values: "normal" | "ties" | "special";
  readonly label: string;
}

/** Seeded random pooling cases (those with an output); channel counts 1-9, 12, 32. */
function cases(seed: number, count: number): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const h = int(r, 1, 12);
    const w = int(r, 1, 12);
    const c = pick(r, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 32]);
    const kind = pick(r, ["same", "valid", "number", "explicit"] as const);
    // valid needs the window inside the input; the others may stick out
    const fh = int(r, 1, kind === "valid" ? Math.min(4, h) : 4);
    const fw = int(r, 1, kind === "valid" ? Math.min(4, w) : 4);
    const pad = padOf(r, kind);
    const strides: [number, number] = [int(r, 1, 3), int(r, 1, 3)];
    const values = pick(r, ["normal", "ties", "special"] as const);
    const shape: [number, number, number, number] = [i % 5 === 0 ? 1 : int(r, 1, 3), h, w, c];
    const info = backend_util.computePool2DInfo(shape, [fh, fw], strides, 1, pad);
    if (info.outHeight < 1 || info.outWidth < 1) continue; // no output: nothing to route
    out.push({
      shape,
      filterSize: [fh, fw],
      strides,
      pad,
      values,
      label: `#${i} [${shape}] f${fh}x${fw} s${strides} ${JSON.stringify(pad)} ${values}`,
    });
  }
  return out;
}

/** The kernel's geometry, from tfjs's own pooling arithmetic. */
function geometryOf(k: Case): Geometry {
  const info = backend_util.computePool2DInfo(k.shape, k.filterSize, k.strides, 1, k.pad);
  return {
    batchSize: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    filterHeight: info.effectiveFilterHeight,
    filterWidth: info.effectiveFilterWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** The input values of a case: normal, small integers (ties), or with NaN and +-Infinity. */
function inputValues(r: () => number, k: Case, n: number): Float32Array {
  if (k.values === "ties") return Float32Array.from({ length: n }, () => int(r, 0, 2));
  const x = normals(r, n);
  if (k.values === "special") {
    const s = [Number.NaN, Infinity, -Infinity, -Infinity, 0, -0];
    for (let i = 0; i < n; i++) if (r() < 0.2) x[i] = pick(r, s);
  }
  return x;
}

/** The window maxima (Math.max: NaN wins; -Infinity for a window that misses the input). */
function windowMax(x: Float32Array, k: Geometry): Float32Array {
  const c = k.inChannels;
  const y = new Float32Array(k.batchSize * k.outHeight * k.outWidth * c);
  let o = 0;
  for (let b = 0; b < k.batchSize; b++)
    for (let yr = 0; yr < k.outHeight; yr++)
      for (let yc = 0; yc < k.outWidth; yc++)
        for (let d = 0; d < c; d++, o++) {
          let m = Number.NEGATIVE_INFINITY;
          for (let i = 0; i < k.filterHeight; i++)
            for (let j = 0; j < k.filterWidth; j++) {
              const r = yr * k.strideHeight - k.padTop + i;
              const q = yc * k.strideWidth - k.padLeft + j;
              if (r < 0 || r >= k.inHeight || q < 0 || q >= k.inWidth) continue;
              m = Math.max(m, x[((b * k.inHeight + r) * k.inWidth + q) * c + d] as number);
            }
          y[o] = m;
        }
  return y;
}

/** The module's geometry arguments. */
const args = (k: Geometry) =>
  [
    k.batchSize,
    k.inHeight,
    k.inWidth,
    k.inChannels,
    k.outHeight,
    k.outWidth,
    k.strideHeight,
    k.strideWidth,
    k.filterHeight,
    k.filterWidth,
    k.padTop,
    k.padLeft,
  ] as const;

describe("MaxPoolGrad module", () => {
  it("the committed bytes are the assembled wasm/maxPoolGrad.wat (run build:wasm after editing it)", async () => {
    expect(
      Buffer.from(maxPoolGradWasmBytes()).equals(Buffer.from(await assembleWasm("maxPoolGrad"))),
    ).toBe(true);
  });

  it("equals the JS loops bit for bit, with and without the pooled output, at 4-byte offsets", () => {
    const memory = new WebAssembly.Memory({ initial: 8 });
    const m = instantiateMaxPoolGrad(memory);
    expect(m, "Node 20 supports WebAssembly SIMD").toBeDefined();
    const r = rng(101);
    let windowsMissing = 0;
    for (const k of cases(5, 120)) {
      const g = geometryOf(k);
      const n = k.shape.reduce((a, b) => a * b, 1);
      const no = g.batchSize * g.outHeight * g.outWidth * g.inChannels;
      const x = inputValues(r, k, n);
      const y = windowMax(x, g);
      if (y.some((v) => v === Number.NEGATIVE_INFINITY)) windowsMissing++;
      // some pooled values that match nothing in their window
      for (let i = 0; i < no; i++) if (r() < 0.05) y[i] = 1e6 + i;
      const dy = normals(r, no);
      const shift = int(r, 0, 3);
      // byte offsets, multiples of 4 and (with shift) not of 16
      const at = {
        x: 64 + 4 * shift,
        y: 100000 + 4 * shift,
        g: 200000 + 4 * shift,
        dx: 300000 + 4 * shift,
      };
      for (const withOutput of [true, false]) {
        const heap = new Float32Array(memory.buffer);
        heap.set(x, at.x / 4);
        heap.set(y, at.y / 4);
        heap.set(dy, at.g / 4);
        heap.fill(12345, at.dx / 4 - 4, at.dx / 4 + n + 4); // garbage where dx goes, and around
        const want = new Float32Array(n);
        if (withOutput) {
          m!.firstEqual(at.x, at.y, at.g, at.dx, ...args(g));
          firstEqual(x, y, dy, want, g);
        } else {
          m!.firstGreater(at.x, at.g, at.dx, ...args(g));
          firstGreater(x, dy, want, g);
        }
        const label = `${k.label} ${withOutput ? "firstEqual" : "firstGreater"} shift ${shift}`;
        expectSameFloats(new Float32Array(memory.buffer, at.dx, n), want, label);
        const sentinel = Array(4).fill(12345);
        expect(Array.from(new Float32Array(memory.buffer, at.dx - 16, 4)), label).toEqual(sentinel);
        expect(Array.from(new Float32Array(memory.buffer, at.dx + 4 * n, 4)), label).toEqual(
          sentinel,
        );
        expectSameFloats(new Float32Array(memory.buffer, at.x, n), x, `x ${label}`);
        expectSameFloats(new Float32Array(memory.buffer, at.y, no), y, `y ${label}`);
        expectSameFloats(new Float32Array(memory.buffer, at.g, no), dy, `dy ${label}`);
      }
    }
    expect(windowsMissing, "some cases have windows outside the input").toBeGreaterThan(0);
  });
});

describe("MaxPoolGrad on wasm", () => {
  it("is the registered kernel and finds the module on the backend's own memory", () => {
    expect(tf.getKernel("MaxPoolGrad", "wasm")?.kernelFunc).toBe(maxPoolGrad);
    const m = maxPoolGradFor(tf.backend() as BackendWasm);
    expect(m).toBeDefined();
    expect(maxPoolGradFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(m);
  });

  it("runs the module; equals its JS fallback bit for bit and tfjs's cpu kernel", () => {
    let calls = 0;
    const counting = (b: BackendWasm): MaxPoolGradExports | undefined => {
      const m = maxPoolGradFor(b);
      if (m === undefined) return undefined;
      return {
        firstEqual: (...a) => {
          calls++;
          m.firstEqual(...a);
        },
        firstGreater: (...a) => {
          calls++;
          m.firstGreater(...a);
        },
      };
    };
    const viaModule = "TestMaxPoolGradModule";
    const viaLoop = "TestMaxPoolGradFallback";
    tf.registerKernel({
      kernelName: viaModule,
      backendName: "wasm",
      kernelFunc: maxPoolGradWith(counting),
    });
    tf.registerKernel({
      kernelName: viaLoop,
      backendName: "wasm",
      kernelFunc: maxPoolGradWith(() => undefined),
    });
    const r = rng(202);
    // The bench CNN's two pooling layers (scaled down in batch) and random cases.
    const cnn: Case[] = [
      {
        shape: [3, 26, 26, 32],
        filterSize: [2, 2],
        strides: [2, 2],
        pad: "valid",
        values: "normal",
        label: "cnn pool 1",
      },
      {
        shape: [3, 11, 11, 64],
        filterSize: [2, 2],
        strides: [2, 2],
        pad: "valid",
        values: "ties",
        label: "cnn pool 2",
      },
    ];
    const all = [...cnn, ...cases(9, 40)];
    let exact = 0;
    try {
      for (const k of all) {
        const n = k.shape.reduce((a, b) => a * b, 1);
        const xs = inputValues(r, k, n);
        const x: HostTensor = { values: xs, shape: [...k.shape], dtype: "float32" };
        const attrs = { filterSize: k.filterSize, strides: k.strides, pad: k.pad };
        const y = runOn("cpu", "MaxPool", { x }, attrs);
        const output: HostTensor = {
          values: y.values as Float32Array,
          shape: y.shape,
          dtype: "float32",
        };
        const dy: HostTensor = {
          values: normals(r, y.values.length),
          shape: y.shape,
          dtype: "float32",
        };
        for (const inputs of [
          { dy, input: x, output },
          { dy, input: x },
        ]) {
          const label = `${k.label}${"output" in inputs ? "" : " without output"}`;
          const got = runOn("wasm", "MaxPoolGrad", inputs, attrs);
          const module = runOn("wasm", viaModule, inputs, attrs);
          const loop = runOn("wasm", viaLoop, inputs, attrs);
          expect(got.shape).toEqual(k.shape);
          expectSameFloats(module.values, got.values, `module ${label}`);
          expectSameFloats(loop.values, got.values, `fallback ${label}`);
          // cpu: first strict maximum, as ours; its NaN handling differs, so finite cases only.
          if (k.values === "special") continue;
          const want = runOn("cpu", "MaxPoolGrad", { dy, input: x, output }, attrs);
          if (k.strides[0] >= k.filterSize[0] && k.strides[1] >= k.filterSize[1]) {
            expectSameFloats(got.values, want.values, `cpu ${label}`);
            exact++;
          } else expectClose(got, want, `cpu ${label}`);
        }
      }
      expect(calls, "every call of the module kernel ran the module").toBe(2 * all.length);
      expect(exact, "some cases compared exactly with cpu").toBeGreaterThan(4);
    } finally {
      tf.unregisterKernel(viaModule, "wasm");
      tf.unregisterKernel(viaLoop, "wasm");
    }
  });

  it("refuses non-float32 inputs with a clear error", () => {
    tf.setBackend("wasm");
    const x = tf.tensor([1, 2, 3, 4], [1, 2, 2, 1], "int32");
    const dy = tf.tensor([1], [1, 1, 1, 1]);
    let caught: unknown;
    try {
      tf.engine().runKernel("MaxPoolGrad", { dy, input: x }, {
        filterSize: [2, 2],
        strides: [2, 2],
        pad: "valid",
      } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WiderFailure);
    expect(isWiderError(caught) && caught.kind).toBe("unsupported");
    expect((caught as Error).message).toMatch(/supports float32 only, got int32/);
    tf.dispose([x, dy]);
  });

  it("leaks neither tensors nor wasm heap over 300 calls", () => {
    tf.setBackend("wasm");
    const x = tf.randomNormal([4, 9, 9, 8], 0, 1, "float32", 3) as tf.Tensor4D;
    const y = tf.maxPool(x, 2, 2, "same");
    const dy = tf.onesLike(y);
    const run = (withOutput: boolean) =>
      tf
        .engine()
        .runKernel("MaxPoolGrad", withOutput ? { dy, input: x, output: y } : { dy, input: x }, {
          filterSize: [2, 2],
          strides: [2, 2],
          pad: "same",
        } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]) as tf.Tensor;
    tf.dispose([run(true), run(false)]);
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 300; i++) tf.dispose(run(i % 2 === 0));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose([x, y, dy]);
  });
});
