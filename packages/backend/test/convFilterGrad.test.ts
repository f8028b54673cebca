/**
 * `Conv2DBackpropFilter` on wasm by the direct SIMD module: the committed module matches
 * wasm/convFilterGrad.wat; on a memory of its own (4-byte, not 16-byte, offsets; bands of 1 row to
 * the whole image) it agrees with an independent float64 oracle written here on seeded random
 * geometries (filters 1-4, strides 1-3, dilations 1-3, same / valid / numeric / explicit
 * padding, Cin 1-9, Cout 1-14 and 32 (every column path: blocks of 8, of 4, single columns),
 * batch 1-3) within the float32 dot-product bound, and writes nothing but dw and its scratch row.
 * The registered kernel (which must run the module: counted) agrees with the oracle, tfjs's cpu
 * kernel and the XNNPACK composition it replaces (kept where the module cannot run). Neither
 * tensors nor wasm heap leak.
 *
 * Tolerance: each dw element is a float32 sum of n = B * OH * OW float32 products, so
 * |dw - exact| <= gamma_n * sum |x * dy| with gamma_n = n u / (1 - n u), u = 2^-24 (the standard
 * bound for recursive summation in any order; Higham, "Accuracy and Stability of Numerical
 * Algorithms", 3.1), checked element-wise against the float64 oracle (plus one rounding of the
 * float32 reference, u |ref|, where that is the cpu kernel's float64 sum rounded to float32).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util } from "@tensorflow/tfjs-core";
import { isWiderError, WiderFailure } from "@wider/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWasm } from "../scripts/assembleWasm.js";
import { conv2DBackpropFilter, conv2DBackpropFilterWith } from "../src/conv2dGrad.js";
import {
  type ConvFilterGradExports,
  convFilterGradFor,
  convFilterGradWasmBytes,
  instantiateConvFilterGrad,
  paddedLayout,
  padInto,
  tapOffsets,
} from "../src/convFilterGrad.js";
import { initWasmTraining, wasmHeapBytes } from "../src/index.js";
import {
  type ConvCase,
  convCases,
  convInfoOf,
  expectWithinBound,
  type HostTensor,
  int,
  normals,
  pick,
  rng,
  runOn,
} from "./helpers.js";

beforeAll(async () => {
  await initWasmTraining();
});

type Case = ConvCase;

/** Seeded random geometries with at least one output pixel (`convCases`, this kernel's ranges). */
const cases = (seed: number, count: number, dilated: boolean): Case[] =>
  convCases(seed, count, {
    cin: (r) => int(r, 1, 9),
    dilated: () => dilated,
    maxSide: 11,
    maxFilter: 4,
  });

const infoOf = convInfoOf;

/**
 * The float64 filter gradient straight from the definition (taps outside the input skipped), and
 * sum |x * dy| per element for the error bound.
 */
function oracle(
  x: Float32Array,
  dy: Float32Array,
  g: backend_util.Conv2DInfo,
): { value: Float64Array; abs: Float64Array } {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: cin, outChannels: cout } = g;
  const value = new Float64Array(g.filterHeight * g.filterWidth * cin * cout);
  const abs = new Float64Array(value.length);
  for (let kh = 0; kh < g.filterHeight; kh++)
    for (let kw = 0; kw < g.filterWidth; kw++)
      for (let ci = 0; ci < cin; ci++)
        for (let co = 0; co < cout; co++) {
          let s = 0;
          let a = 0;
          for (let n = 0; n < b; n++)
            for (let oh = 0; oh < g.outHeight; oh++)
              for (let ow = 0; ow < g.outWidth; ow++) {
                const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padInfo.top;
                const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padInfo.left;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                const p =
                  (x[((n * h + ih) * w + iw) * cin + ci] as number) *
                  (dy[((n * g.outHeight + oh) * g.outWidth + ow) * cout + co] as number);
                s += p;
                a += Math.abs(p);
              }
          const e = ((kh * g.filterWidth + kw) * cin + ci) * cout + co;
          value[e] = s;
          abs[e] = a;
        }
  return { value, abs };
}

/**
 * Asserts |got - value| <= gamma_n * abs element-wise, plus u |value| (u = 2^-24, one rounding to
 * float32) when `rounded`.
 */

describe("convFilterGrad module", () => {
  it("the committed bytes are the assembled wasm/convFilterGrad.wat (run build:wasm after editing it)", async () => {
    expect(
      Buffer.from(convFilterGradWasmBytes()).equals(
        Buffer.from(await assembleWasm("convFilterGrad")),
      ),
    ).toBe(true);
  });

  it("agrees with the float64 oracle within the float32 bound, in bands, at 4-byte offsets, writing only dw", () => {
    const memory = new WebAssembly.Memory({ initial: 40 });
    const m = instantiateConvFilterGrad(memory);
    expect(m, "Node 20 supports WebAssembly SIMD").toBeDefined();
    const r = rng(303);
    const all = cases(7, 90, true);
    let padded = 0;
    let inPlace = 0;
    const couts = new Set<number>();
    for (const k of all) {
      const g = infoOf(k);
      const layout = paddedLayout(g);
      if (layout.copy) padded++;
      else inPlace++;
      couts.add(g.outChannels % 8);
      const nx = k.xShape.reduce((a, b) => a * b, 1);
      const ny = g.batchSize * g.outHeight * g.outWidth * g.outChannels;
      const kk = g.filterHeight * g.filterWidth * g.inChannels;
      const nw = kk * g.outChannels;
      const x = normals(r, nx);
      const dy = normals(r, ny);
      const xs = layout.copy
        ? new Float32Array(g.batchSize * layout.height * layout.width * g.inChannels)
        : x;
      if (layout.copy) padInto(x, xs, g, layout.height, layout.width);
      const offs = tapOffsets(g, layout.width);
      const shift = 4 * int(r, 0, 3);
      const at = {
        x: 64 + shift,
        dy: 400_000 + shift,
        offs: 800_000 + shift,
        dw: 900_000 + shift,
        spare: 1_000_000 + shift,
      };
      const heap = new Float32Array(memory.buffer);
      heap.set(xs, at.x / 4);
      heap.set(dy, at.dy / 4);
      new Int32Array(memory.buffer).set(offs, at.offs / 4);
      heap.fill(12345, at.dw / 4 - 4, at.dw / 4 + nw + 4); // garbage where dw goes, and around
      heap.fill(777, at.spare / 4 - 4, at.spare / 4 + g.outChannels + 4);
      const bandRows = pick(r, [1, 2, 3, g.outHeight, 1000]);
      const pixel = 4 * g.inChannels;
      m!.filterGrad(
        at.x,
        at.dy,
        at.dw,
        at.offs,
        at.spare,
        g.batchSize,
        g.outHeight,
        g.outWidth,
        layout.height * layout.width * pixel,
        g.strideHeight * layout.width * pixel,
        g.strideWidth * pixel,
        kk,
        g.outChannels,
        bandRows,
      );
      const label = `${k.label} band ${bandRows} shift ${shift}`;
      expectWithinBound(
        new Float32Array(memory.buffer, at.dw, nw),
        oracle(x, dy, g),
        g.batchSize * g.outHeight * g.outWidth,
        label,
      );
      const sentinel = Array(4).fill(12345);
      expect(Array.from(new Float32Array(memory.buffer, at.dw - 16, 4)), label).toEqual(sentinel);
      expect(Array.from(new Float32Array(memory.buffer, at.dw + 4 * nw, 4)), label).toEqual(
        sentinel,
      );
      const spareAround = Array(4).fill(777);
      expect(Array.from(new Float32Array(memory.buffer, at.spare - 16, 4)), label).toEqual(
        spareAround,
      );
      expect(
        Array.from(new Float32Array(memory.buffer, at.spare + 4 * g.outChannels, 4)),
        label,
      ).toEqual(spareAround);
      expect(Buffer.from(memory.buffer, at.x, 4 * xs.length).equals(Buffer.from(xs.buffer))).toBe(
        true,
      );
      expect(Buffer.from(memory.buffer, at.dy, 4 * ny).equals(Buffer.from(dy.buffer))).toBe(true);
      expect(Array.from(new Int32Array(memory.buffer, at.offs, kk))).toEqual(Array.from(offs));
    }
    expect(padded, "cases with padding copied").toBeGreaterThan(20);
    expect(inPlace, "cases read in place").toBeGreaterThan(10);
    expect(couts.size, "Cout of every residue mod 8").toBe(8);
  });

  it("zero output pixels or channels give zeros", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = instantiateConvFilterGrad(memory)!;
    const heap = new Float32Array(memory.buffer);
    heap.fill(5, 0, 200);
    // batch 2, 0 x 3 output pixels, k = 6, cout = 5: dw (at 400) zeroed, nothing else written
    m.filterGrad(0, 0, 400, 0, 0, 2, 0, 3, 16, 16, 4, 6, 5, 1);
    expect(Array.from(heap.subarray(100, 130))).toEqual(Array(30).fill(0));
    expect(heap[130]).toBe(5);
    expect(heap[99]).toBe(5);
  });
});

describe("Conv2DBackpropFilter on wasm", () => {
  it("is the registered kernel and finds the module on the backend's own memory", () => {
    expect(tf.getKernel("Conv2DBackpropFilter", "wasm")?.kernelFunc).toBe(conv2DBackpropFilter);
    const m = convFilterGradFor(tf.backend() as BackendWasm);
    expect(m).toBeDefined();
    expect(convFilterGradFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(
      m,
    );
  });

  it("runs the module; agrees with the oracle, tfjs's cpu kernel and the XNNPACK composition", () => {
    let calls = 0;
    const counting = (b: BackendWasm): ConvFilterGradExports | undefined => {
      const m = convFilterGradFor(b);
      if (m === undefined) return undefined;
      return {
        filterGrad: (...a) => {
          calls++;
          m.filterGrad(...a);
        },
      };
    };
    const viaModule = "TestConvFilterGradModule";
    const viaXnnpack = "TestConvFilterGradXnnpack";
    tf.registerKernel({
      kernelName: viaModule,
      backendName: "wasm",
      kernelFunc: conv2DBackpropFilterWith(counting),
    });
    tf.registerKernel({
      kernelName: viaXnnpack,
      backendName: "wasm",
      kernelFunc: conv2DBackpropFilterWith(() => undefined),
    });
    const r = rng(404);
    // The bench CNN's two calls (batch scaled down) and random cases (no dilation: the kernel's
    // attributes have none).
    const cnn: Case[] = [
      {
        xShape: [2, 28, 28, 1],
        filter: [3, 3, 1, 32],
        strides: [1, 1],
        dilations: [1, 1],
        pad: "valid",
        label: "cnn conv1",
      },
      {
        xShape: [2, 13, 13, 32],
        filter: [3, 3, 32, 64],
        strides: [1, 1],
        dilations: [1, 1],
        pad: "valid",
        label: "cnn conv2",
      },
    ];
    const all = [...cnn, ...cases(11, 40, false)];
    try {
      for (const k of all) {
        const g = infoOf(k);
        const x: HostTensor = {
          values: normals(
            r,
            k.xShape.reduce((a, b) => a * b, 1),
          ),
          shape: [...k.xShape],
          dtype: "float32",
        };
        const dyShape = [g.batchSize, g.outHeight, g.outWidth, g.outChannels];
        const dy: HostTensor = {
          values: normals(
            r,
            dyShape.reduce((a, b) => a * b, 1),
          ),
          shape: dyShape,
          dtype: "float32",
        };
        const attrs = { strides: k.strides, pad: k.pad, dataFormat: "NHWC", filterShape: k.filter };
        const want = oracle(x.values as Float32Array, dy.values as Float32Array, g);
        const n = g.batchSize * g.outHeight * g.outWidth;
        const got = runOn("wasm", "Conv2DBackpropFilter", { x, dy }, attrs);
        const module = runOn("wasm", viaModule, { x, dy }, attrs);
        const xnn = runOn("wasm", viaXnnpack, { x, dy }, attrs);
        const cpu = runOn("cpu", "Conv2DBackpropFilter", { x, dy }, attrs);
        expect(got.shape, k.label).toEqual([...k.filter]);
        expect(cpu.shape, k.label).toEqual([...k.filter]);
        expect(Array.from(module.values), `module ${k.label}`).toEqual(Array.from(got.values));
        expectWithinBound(got.values, want, n, `module ${k.label}`);
        expectWithinBound(xnn.values, want, n, `XNNPACK ${k.label}`);
        // cpu sums in float64 and rounds once: within one rounding of the oracle
        expectWithinBound(cpu.values, want, 0, `cpu ${k.label}`, true);
        // so wasm and cpu differ by at most the bound plus that rounding
        const cpuAsRef = { value: Float64Array.from(cpu.values), abs: want.abs };
        expectWithinBound(got.values, cpuAsRef, n, `wasm vs cpu ${k.label}`, true);
      }
      expect(calls, "every call of the module kernel ran the module").toBe(all.length);
    } finally {
      tf.unregisterKernel(viaModule, "wasm");
      tf.unregisterKernel(viaXnnpack, "wasm");
    }
  });

  it("refuses a dy whose shape is not the convolution's output with a clear error", () => {
    tf.setBackend("wasm");
    const x = tf.zeros([2, 6, 6, 3]);
    const dy = tf.zeros([2, 4, 5, 4]); // valid 3x3 gives [2, 4, 4, 4]
    let caught: unknown;
    try {
      tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
        strides: [1, 1],
        pad: "valid",
        dataFormat: "NHWC",
        filterShape: [3, 3, 3, 4],
      } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WiderFailure);
    expect(isWiderError(caught) && caught.kind).toBe("shape");
    expect((caught as Error).message).toMatch(/dy must be \[2,4,4,4\]/);
    tf.dispose([x, dy]);
  });

  it("leaks neither tensors nor wasm heap over 300 calls (padded and in place)", () => {
    tf.setBackend("wasm");
    const x = tf.randomNormal([3, 9, 9, 5], 0, 1, "float32", 3) as tf.Tensor4D;
    const run = (pad: "same" | "valid") => {
      const info = backend_util.computeConv2DInfo(x.shape, [3, 3, 5, 6], 2, 1, pad);
      return tf.tidy(() => {
        const dy = tf.ones([3, info.outHeight, info.outWidth, 6]);
        return tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, {
          strides: [2, 2],
          pad,
          dataFormat: "NHWC",
          filterShape: [3, 3, 5, 6],
        } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]) as tf.Tensor;
      });
    };
    tf.dispose([run("same"), run("valid")]);
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 300; i++) tf.dispose(run(i % 2 === 0 ? "same" : "valid"));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose(x);
  });
});
