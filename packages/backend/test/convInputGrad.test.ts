/**
 * `Conv2DBackpropInput` on wasm by the direct SIMD module: the committed module matches
 * wasm/convInputGrad.wat; on a memory of its own (4-byte, not 16-byte, offsets) it agrees with an
 * independent float64 oracle written here on seeded random geometries (bands of 1 row to the whole
 * image, filters 1-5, strides 1-3,
 * dilations 1-3, same / valid / numeric / explicit padding, Cin 1-19 (groups of 8 and every
 * remainder), Cout 1-14 and 32, images 1-12 pixels a side (short last items), batch 1-3) within the
 * float32 dot-product bound, and writes nothing but dx and its scratch. The registered kernel (which
 * must run the module: counted) agrees with the oracle, tfjs's cpu kernel and the XNNPACK
 * composition it replaces (kept where the module cannot run). Mutations (a tap dropped from the
 * tables, the filter packed spatially reversed as the composition needs it) are caught by the same
 * check. Neither tensors nor wasm heap leak.
 *
 * Tolerance: each dx element is a float32 sum of at most n = KH * KW * Cout float32 products (the
 * module adds exact zeros besides), so |dx - exact| <= gamma_n * sum |dy * w| with
 * gamma_n = n u / (1 - n u), u = 2^-24 (recursive summation in any order; Higham, "Accuracy and
 * Stability of Numerical Algorithms", 3.1), checked element-wise against the float64 oracle (plus
 * one rounding of the float32 reference, u |ref|, where that is the cpu kernel's float64 sum rounded
 * to float32).
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util } from "@tensorflow/tfjs-core";
import { isWiderError, WiderFailure } from "@wider/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWasm } from "../scripts/assembleWasm.js";
import { conv2DBackpropInput, conv2DBackpropInputWith } from "../src/conv2dGrad.js";
import {
  type ConvInputGradExports,
  convInputGradFor,
  convInputGradWasmBytes,
  type ItemTable,
  instantiateConvInputGrad,
  itemTable,
  packedFilterLength,
  packFilter,
} from "../src/convInputGrad.js";
import { initWasmTraining, wasmHeapBytes } from "../src/index.js";
import {
  type ConvCase,
  convCases,
  convInfoOf,
  expectWithinBound,
  type HostTensor,
  int,
  normals,
  outsideBound,
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
    cin: (r) => pick(r, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 16, 17, 19]),
    dilated: () => dilated,
    maxSide: 12,
    maxFilter: 5,
  });

const infoOf = convInfoOf;

/**
 * The float64 input gradient straight from the definition (scattering every dy pixel through every
 * tap that lands inside the input), and sum |dy * w| per element for the error bound.
 */
function oracle(
  dy: Float32Array,
  w: Float32Array,
  g: backend_util.Conv2DInfo,
): { value: Float64Array; abs: Float64Array } {
  const { batchSize: b, inHeight: h, inWidth: wd, inChannels: cin, outChannels: cout } = g;
  const value = new Float64Array(b * h * wd * cin);
  const abs = new Float64Array(value.length);
  for (let n = 0; n < b; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let kh = 0; kh < g.filterHeight; kh++)
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padInfo.top;
            const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padInfo.left;
            if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
            for (let ci = 0; ci < cin; ci++)
              for (let co = 0; co < cout; co++) {
                const p =
                  (dy[((n * g.outHeight + oh) * g.outWidth + ow) * cout + co] as number) *
                  (w[((kh * g.filterWidth + kw) * cin + ci) * cout + co] as number);
                const e = ((n * h + ih) * wd + iw) * cin + ci;
                value[e] = (value[e] as number) + p;
                abs[e] = (abs[e] as number) + Math.abs(p);
              }
          }
  return { value, abs };
}

/**
 * The first element where |got - value| > gamma_n * abs (plus u |value|, one rounding to float32,
 * when `rounded`), as a message, or undefined when all are within the bound.
 */

/** Where the module's operands go in a test memory (byte offsets, shifted off 16-byte alignment). */
const layoutAt = (shift: number) => ({
  dy: 64 + shift,
  wp: 300_000 + shift,
  bands: 600_000 + shift,
  items: 640_000 + shift,
  zero: 700_000 + shift,
  spare: 710_000 + shift,
  dx: 720_000 + shift,
});

/**
 * Runs the module on `memory` for case `g` with host `dy` and filter `w` (and the given tables and
 * packed filter), checking that nothing but dx and the scratch was written; returns dx.
 */
function runModule(
  m: ConvInputGradExports,
  memory: WebAssembly.Memory,
  g: backend_util.Conv2DInfo,
  dy: Float32Array,
  wp: Float32Array,
  t: ItemTable,
  shift: number,
  label: string,
): Float32Array {
  const at = layoutAt(shift);
  const nx = g.batchSize * g.inHeight * g.inWidth * g.inChannels;
  const heap = new Float32Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  heap.set(dy, at.dy / 4);
  heap.set(wp, at.wp / 4);
  ints.set(t.bands, at.bands / 4);
  ints.set(t.items, at.items / 4);
  heap.fill(0, at.zero / 4, at.zero / 4 + g.outChannels);
  heap.fill(321, at.zero / 4 + g.outChannels, at.zero / 4 + g.outChannels + 4);
  heap.fill(777, at.spare / 4 - 4, at.spare / 4 + 12);
  heap.fill(12345, at.dx / 4 - 4, at.dx / 4 + nx + 4); // garbage where dx goes, and around
  const cout = g.outChannels;
  m.inputGrad(
    at.dy,
    at.wp,
    at.dx,
    at.items,
    at.zero,
    at.spare,
    g.batchSize,
    g.inHeight * g.inWidth,
    g.inChannels,
    cout,
    g.outHeight * g.outWidth * cout * 4,
    at.bands,
    t.bands.length,
    t.stride * 4,
    g.filterHeight * g.filterWidth * cout * 32,
  );
  const sentinel = Array(4).fill(12345);
  expect(Array.from(new Float32Array(memory.buffer, at.dx - 16, 4)), label).toEqual(sentinel);
  expect(Array.from(new Float32Array(memory.buffer, at.dx + 4 * nx, 4)), label).toEqual(sentinel);
  const spareAround = Array(4).fill(777);
  expect(Array.from(new Float32Array(memory.buffer, at.spare - 16, 4)), label).toEqual(spareAround);
  expect(Array.from(new Float32Array(memory.buffer, at.spare + 32, 4)), label).toEqual(spareAround);
  expect(Buffer.from(memory.buffer, at.dy, 4 * dy.length).equals(Buffer.from(dy.buffer))).toBe(
    true,
  );
  expect(Buffer.from(memory.buffer, at.wp, 4 * wp.length).equals(Buffer.from(wp.buffer))).toBe(
    true,
  );
  expect(Array.from(new Int32Array(memory.buffer, at.bands, t.bands.length))).toEqual(
    Array.from(t.bands),
  );
  expect(Array.from(new Int32Array(memory.buffer, at.items, t.items.length))).toEqual(
    Array.from(t.items),
  );
  expect(Array.from(new Float32Array(memory.buffer, at.zero, cout + 4))).toEqual([
    ...Array(cout).fill(0),
    ...Array(4).fill(321),
  ]);
  return new Float32Array(memory.buffer, at.dx, nx).slice();
}

/** Host operands of a case: dy, filter, packed filter, tables. */
function operands(r: () => number, g: backend_util.Conv2DInfo, rowsPerBand?: number) {
  const dy = normals(r, g.batchSize * g.outHeight * g.outWidth * g.outChannels);
  const w = normals(r, g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
  const wp = new Float32Array(packedFilterLength(g));
  packFilter(w, wp, g);
  return { dy, w, wp, tables: itemTable(g, rowsPerBand) };
}

describe("convInputGrad module", () => {
  it("the committed bytes are the assembled wasm/convInputGrad.wat (run build:wasm after editing it)", async () => {
    expect(
      Buffer.from(convInputGradWasmBytes()).equals(
        Buffer.from(await assembleWasm("convInputGrad")),
      ),
    ).toBe(true);
  });

  it("agrees with the float64 oracle within the float32 bound, at 4-byte offsets, writing only dx", () => {
    const memory = new WebAssembly.Memory({ initial: 40 });
    const m = instantiateConvInputGrad(memory);
    expect(m, "Node 20 supports WebAssembly SIMD").toBeDefined();
    const r = rng(505);
    const all = cases(17, 90, true);
    const cinTails = new Set<number>();
    const coutTails = new Set<number>();
    let strided = 0;
    let dilated = 0;
    let shortItems = 0;
    let noTaps = 0;
    let banded = 0;
    for (const k of all) {
      const g = infoOf(k);
      cinTails.add(g.inChannels % 8);
      coutTails.add(g.outChannels % 4);
      if (g.strideHeight > 1 || g.strideWidth > 1) strided++;
      if (g.dilationHeight > 1 || g.dilationWidth > 1) dilated++;
      const rowsPerBand = pick(r, [1, 2, 3, g.inHeight, 1000]);
      const { dy, w, wp, tables } = operands(r, g, rowsPerBand);
      if (tables.bands.length > 1) banded++;
      for (let i = 0; i < tables.count; i++) {
        if ((tables.items[i * tables.stride + 4] as number) < 0) shortItems++;
        if (tables.items[i * tables.stride] === 0) noTaps++;
      }
      const shift = 4 * int(r, 0, 3);
      const label = `${k.label} band ${rowsPerBand} shift ${shift}`;
      const dx = runModule(m!, memory, g, dy, wp, tables, shift, label);
      expectWithinBound(
        dx,
        oracle(dy, w, g),
        g.filterHeight * g.filterWidth * g.outChannels,
        label,
      );
    }
    expect(cinTails.size, "Cin of every residue mod 8").toBe(8);
    expect(coutTails.size, "Cout of every residue mod 4").toBe(4);
    expect(strided, "strided cases").toBeGreaterThan(10);
    expect(dilated, "dilated cases").toBeGreaterThan(20);
    expect(shortItems, "items with fewer than 4 pixels").toBeGreaterThan(20);
    expect(noTaps, "items of pixels that no tap reaches (zeros)").toBeGreaterThan(5);
    expect(banded, "images in several bands").toBeGreaterThan(5);
  });

  it("catches mutations: a tap dropped from the tables, the filter packed reversed", () => {
    const memory = new WebAssembly.Memory({ initial: 40 });
    const m = instantiateConvInputGrad(memory)!;
    const r = rng(606);
    const k: Case = {
      xShape: [2, 7, 9, 11],
      filter: [3, 3, 11, 6],
      strides: [1, 1],
      dilations: [1, 1],
      pad: "same",
      label: "mutation",
    };
    const g = infoOf(k);
    const { dy, w, wp, tables } = operands(r, g);
    const want = oracle(dy, w, g);
    const n = 9 * g.outChannels;
    expect(outsideBound(runModule(m, memory, g, dy, wp, tables, 4, "intact"), want, n)).toBe(
      undefined,
    );
    // item 3's last tap dropped
    const items = tables.items.slice();
    items[3 * tables.stride] = (items[3 * tables.stride] as number) - 1;
    const dropped = runModule(m, memory, g, dy, wp, { ...tables, items }, 4, "dropped");
    expect(outsideBound(dropped, want, n)).toMatch(/element/);
    // the reversed filter the XNNPACK composition convolves with, packed as if it were the filter
    const reversed = new Float32Array(w.length);
    const tap = g.inChannels * g.outChannels;
    for (let t = 0; t < 9; t++) reversed.set(w.subarray(t * tap, (t + 1) * tap), (8 - t) * tap);
    const wpr = new Float32Array(wp.length);
    packFilter(reversed, wpr, g);
    const flipped = runModule(m, memory, g, dy, wpr, tables, 4, "reversed");
    expect(outsideBound(flipped, want, n)).toMatch(/element/);
  });

  it("zero output channels give zeros; zero images or pixels write nothing", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = instantiateConvInputGrad(memory)!;
    const g = backend_util.computeConv2DInfo([2, 3, 5, 9], [2, 2, 9, 1], 1, 1, "same");
    const t = itemTable(g);
    const heap = new Float32Array(memory.buffer);
    const ints = new Int32Array(memory.buffer);
    heap.fill(5, 0, 4000);
    ints.set(t.bands, 1000);
    ints.set(t.items, 2000);
    const nx = 2 * 3 * 5 * 9;
    const call = (batch: number, pixels: number, cout: number) =>
      m.inputGrad(
        0,
        0,
        400,
        8000,
        0,
        12000,
        batch,
        pixels,
        9,
        cout,
        0,
        4000,
        t.bands.length,
        t.stride * 4,
        0,
      );
    // cout 0: dx (at byte 400) all zeros, nothing else written
    call(2, 15, 0);
    expect(Array.from(heap.subarray(100, 100 + nx))).toEqual(Array(nx).fill(0));
    expect(heap[100 + nx]).toBe(5);
    expect(heap[99]).toBe(5);
    heap.fill(5, 0, 1000);
    call(0, 15, 1);
    call(2, 0, 1);
    expect(Array.from(heap.subarray(0, 1000))).toEqual(Array(1000).fill(5));
  });
});

describe("Conv2DBackpropInput on wasm", () => {
  it("is the registered kernel and finds the module on the backend's own memory", () => {
    expect(tf.getKernel("Conv2DBackpropInput", "wasm")?.kernelFunc).toBe(conv2DBackpropInput);
    const m = convInputGradFor(tf.backend() as BackendWasm);
    expect(m).toBeDefined();
    expect(convInputGradFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(m);
  });

  it("runs the module; agrees with the oracle, tfjs's cpu kernel and the XNNPACK composition", () => {
    let calls = 0;
    const counting = (b: BackendWasm): ConvInputGradExports | undefined => {
      const m = convInputGradFor(b);
      if (m === undefined) return undefined;
      return {
        inputGrad: (...a) => {
          calls++;
          m.inputGrad(...a);
        },
      };
    };
    const viaModule = "TestConvInputGradModule";
    const viaXnnpack = "TestConvInputGradXnnpack";
    tf.registerKernel({
      kernelName: viaModule,
      backendName: "wasm",
      kernelFunc: conv2DBackpropInputWith(counting),
    });
    tf.registerKernel({
      kernelName: viaXnnpack,
      backendName: "wasm",
      kernelFunc: conv2DBackpropInputWith(() => undefined),
    });
    const r = rng(707);
    // The bench CNN's call (batch scaled down), a strided same layer, and random cases (no
    // dilation: the kernel's attributes have none).
    const fixed: Case[] = [
      {
        xShape: [2, 13, 13, 32],
        filter: [3, 3, 32, 64],
        strides: [1, 1],
        dilations: [1, 1],
        pad: "valid",
        label: "cnn conv2",
      },
      {
        xShape: [2, 14, 15, 16],
        filter: [3, 3, 16, 24],
        strides: [2, 2],
        dilations: [1, 1],
        pad: "same",
        label: "stride 2 same",
      },
    ];
    const all = [...fixed, ...cases(19, 40, false)];
    try {
      for (const k of all) {
        const g = infoOf(k);
        const dyShape = [g.batchSize, g.outHeight, g.outWidth, g.outChannels];
        const dy: HostTensor = {
          values: normals(
            r,
            dyShape.reduce((a, b) => a * b, 1),
          ),
          shape: dyShape,
          dtype: "float32",
        };
        const filter: HostTensor = {
          values: normals(
            r,
            k.filter.reduce((a, b) => a * b, 1),
          ),
          shape: [...k.filter],
          dtype: "float32",
        };
        const attrs = { strides: k.strides, pad: k.pad, dataFormat: "NHWC", inputShape: k.xShape };
        const want = oracle(dy.values as Float32Array, filter.values as Float32Array, g);
        const n = g.filterHeight * g.filterWidth * g.outChannels;
        const got = runOn("wasm", "Conv2DBackpropInput", { dy, filter }, attrs);
        const module = runOn("wasm", viaModule, { dy, filter }, attrs);
        const xnn = runOn("wasm", viaXnnpack, { dy, filter }, attrs);
        const cpu = runOn("cpu", "Conv2DBackpropInput", { dy, filter }, attrs);
        expect(got.shape, k.label).toEqual([...k.xShape]);
        expect(cpu.shape, k.label).toEqual([...k.xShape]);
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
    const w = tf.zeros([3, 3, 3, 4]);
    const dy = tf.zeros([2, 4, 5, 4]); // valid 3x3 on 6x6 gives [2, 4, 4, 4]
    let caught: unknown;
    try {
      tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: w }, {
        strides: [1, 1],
        pad: "valid",
        dataFormat: "NHWC",
        inputShape: [2, 6, 6, 3],
      } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WiderFailure);
    expect(isWiderError(caught) && caught.kind).toBe("shape");
    expect((caught as Error).message).toMatch(/dy must be \[2,4,4,4\]/);
    tf.dispose([w, dy]);
  });

  it("leaks neither tensors nor wasm heap over 300 calls (same and valid, stride 2)", () => {
    tf.setBackend("wasm");
    const w = tf.randomNormal([3, 3, 5, 6], 0, 1, "float32", 3) as tf.Tensor4D;
    const run = (pad: "same" | "valid") => {
      const info = backend_util.computeConv2DInfo([3, 9, 9, 5], [3, 3, 5, 6], 2, 1, pad);
      return tf.tidy(() => {
        const dy = tf.ones([3, info.outHeight, info.outWidth, 6]);
        return tf.engine().runKernel("Conv2DBackpropInput", { dy, filter: w }, {
          strides: [2, 2],
          pad,
          dataFormat: "NHWC",
          inputShape: [3, 9, 9, 5],
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
    tf.dispose(w);
  });
});
