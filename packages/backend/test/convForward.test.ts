/**
 * `Conv2D` and `FusedConv2D` on wasm by the direct SIMD module: the committed module matches
 * wasm/convForward.wat; on a memory of its own (4-byte, not 16-byte, offsets) it agrees with an independent float64 oracle
 * written here on seeded random geometries (filters 1-5, strides 1-3, dilations 1-3, same / valid /
 * numeric / explicit padding, Cin 1-19, Cout 1-14 and 32 (blocks of 8, 4 and every remainder),
 * images 1-12 pixels a side, batch 1-3, so groups of 4 pixels that straddle images and short last
 * groups), with and without a bias and relu, within the float32 dot-product bound, and writes
 * nothing but y and its scratch; relu keeps NaN and zeroes -Infinity. The registered kernels (which
 * must run the module where the rule says: counted) agree with the oracle, tfjs's cpu kernels and
 * the XNNPACK kernels they replace (kept above the rule's limit, for FusedConv2D's other
 * activations, and where the module cannot run); calls where XNNPACK would write past its output
 * go to the module. A tfjs-layers conv layer predicts (FusedConv2D) and gets its gradients (Conv2D)
 * on wasm as on cpu. Mutations (a tap offset dropped, the filter transposed as XNNPACK packs it)
 * are caught by the same check. Neither tensors nor wasm heap leak.
 *
 * Tolerance: each y element is a float32 sum of n = KH * KW * Cin float32 products after the bias
 * (n + 1 terms with a bias), so |y - exact| <= gamma_n * (sum |x * w| + |bias|) with
 * gamma_n = n u / (1 - n u), u = 2^-24 (recursive summation in any order; Higham, "Accuracy and
 * Stability of Numerical Algorithms", 3.1; relu, 1-Lipschitz, keeps it), checked element-wise
 * against the float64 oracle, for the module, the registered kernels, XNNPACK and tfjs's cpu kernel
 * (which also sums in float32) alike; the module and cpu are then within twice the bound.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util } from "@tensorflow/tfjs-core";
import { isWiderError, WiderFailure } from "@wider/errors";
import { beforeAll, describe, expect, it } from "vitest";
import { assembleWasm } from "../scripts/assembleWasm.js";
import { paddedLayout, padInto, tapOffsets } from "../src/convFilterGrad.js";
import {
  type ConvForwardExports,
  conv2D,
  conv2DWith,
  convForwardFor,
  convForwardWasmBytes,
  cornerTable,
  directMaxFilterFloats,
  fusedConv2D,
  fusedConv2DWith,
  instantiateConvForward,
  padArgs,
  useDirectConv2D,
  xnnpackOverflows,
} from "../src/convForward.js";
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

/** Random cases (seed 19, 40) on which tfjs-backend-wasm 4.22.0's own Conv2D is outside the bound. */
const xnnpackWrongExpected = 1;

type Case = ConvCase;

/** Seeded random geometries with at least one output pixel (`convCases`, this kernel's ranges). */
const cases = (seed: number, count: number): Case[] =>
  convCases(seed, count, {
    cin: (r) => pick(r, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15, 16, 17, 19]),
    dilated: (i) => i % 3 === 0,
    maxSide: 12,
    maxFilter: 5,
  });

const infoOf = convInfoOf;

/**
 * The float64 convolution straight from the definition (every output pixel, every tap that lands
 * inside the input), plus the bias, and sum |x * w| + |bias| per element for the error bound.
 */
function oracle(
  x: Float32Array,
  w: Float32Array,
  g: backend_util.Conv2DInfo,
  bias?: Float32Array,
): { value: Float64Array; abs: Float64Array } {
  const { batchSize: b, inHeight: h, inWidth: wd, inChannels: cin, outChannels: cout } = g;
  const value = new Float64Array(b * g.outHeight * g.outWidth * cout);
  const abs = new Float64Array(value.length);
  for (let n = 0; n < b; n++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let co = 0; co < cout; co++) {
          const e = ((n * g.outHeight + oh) * g.outWidth + ow) * cout + co;
          let v = bias === undefined ? 0 : (bias[co] as number);
          let a = Math.abs(v);
          for (let kh = 0; kh < g.filterHeight; kh++)
            for (let kw = 0; kw < g.filterWidth; kw++) {
              const ih = oh * g.strideHeight + kh * g.dilationHeight - g.padInfo.top;
              const iw = ow * g.strideWidth + kw * g.dilationWidth - g.padInfo.left;
              if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
              for (let ci = 0; ci < cin; ci++) {
                const p =
                  (x[((n * h + ih) * wd + iw) * cin + ci] as number) *
                  (w[((kh * g.filterWidth + kw) * cin + ci) * cout + co] as number);
                v += p;
                a += Math.abs(p);
              }
            }
          value[e] = v;
          abs[e] = a;
        }
  return { value, abs };
}

/**
 * The oracle through relu (1-Lipschitz, so the same bound holds: |relu(y) - relu(exact)| <=
 * |y - exact|).
 */
const throughRelu = (o: { value: Float64Array; abs: Float64Array }) => ({
  value: o.value.map((v) => Math.max(v, 0)),
  abs: o.abs,
});

/**
 * The first element where |got - value| > gamma_n * abs (plus u |value|, one rounding to float32,
 * when `rounded`), as a message, or undefined when all are within the bound.
 */

/** Where the module's operands go in a test memory (byte offsets, shifted off 16-byte alignment). */
const layoutAt = (shift: number) => ({
  x: 64 + shift,
  w: 300_000 + shift,
  bias: 500_000 + shift,
  offs: 510_000 + shift,
  corners: 530_000 + shift,
  spare: 560_000 + shift,
  y: 570_000 + shift,
});

/** Host operands of a case: x (padded as the module reads it), filter, bias, tables. */
function operands(r: () => number, g: backend_util.Conv2DInfo, withBias: boolean) {
  const x = normals(r, g.batchSize * g.inHeight * g.inWidth * g.inChannels);
  const w = normals(r, g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
  const bias = withBias ? normals(r, g.outChannels) : new Float32Array(g.outChannels);
  const layout = paddedLayout(g);
  const xp = layout.copy
    ? new Float32Array(g.batchSize * layout.height * layout.width * g.inChannels)
    : x;
  if (layout.copy) padInto(x, xp, g, layout.height, layout.width);
  return {
    x,
    xp,
    w,
    bias,
    offs: tapOffsets(g, layout.width),
    corners: cornerTable(g, layout.width),
    xImage: layout.height * layout.width * g.inChannels * 4,
  };
}

/**
 * Runs the module on `memory` with the given host operands, checking that nothing but y and the
 * scratch was written; returns y.
 */
function runModule(
  m: ConvForwardExports,
  memory: WebAssembly.Memory,
  g: backend_util.Conv2DInfo,
  o: ReturnType<typeof operands>,
  shift: number,
  label: string,
  relu = false,
): Float32Array {
  const at = layoutAt(shift);
  const cout = g.outChannels;
  const ny = g.batchSize * g.outHeight * g.outWidth * cout;
  const heap = new Float32Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  heap.set(o.xp, at.x / 4);
  heap.set(o.w, at.w / 4);
  heap.set(o.bias, at.bias / 4);
  ints.set(o.offs, at.offs / 4);
  ints.set(o.corners, at.corners / 4);
  heap.fill(777, at.spare / 4 - 4, at.spare / 4 + cout + 4);
  heap.fill(12345, at.y / 4 - 4, at.y / 4 + ny + 4); // garbage where y goes, and around
  m.conv(
    at.x,
    at.w,
    at.y,
    at.bias,
    at.offs,
    at.corners,
    at.spare,
    g.batchSize,
    g.outHeight * g.outWidth,
    o.xImage,
    o.offs.length,
    cout,
    relu ? 1 : 0,
  );
  const sentinel = Array(4).fill(12345);
  expect(Array.from(new Float32Array(memory.buffer, at.y - 16, 4)), label).toEqual(sentinel);
  expect(Array.from(new Float32Array(memory.buffer, at.y + 4 * ny, 4)), label).toEqual(sentinel);
  const spareAround = Array(4).fill(777);
  expect(Array.from(new Float32Array(memory.buffer, at.spare - 16, 4)), label).toEqual(spareAround);
  expect(Array.from(new Float32Array(memory.buffer, at.spare + 4 * cout, 4)), label).toEqual(
    spareAround,
  );
  const same = (offset: number, a: Float32Array | Int32Array) =>
    Buffer.from(memory.buffer, offset, 4 * a.length).equals(
      Buffer.from(a.buffer, a.byteOffset, 4 * a.length),
    );
  expect(same(at.x, o.xp), label).toBe(true);
  expect(same(at.w, o.w), label).toBe(true);
  expect(same(at.bias, o.bias), label).toBe(true);
  expect(same(at.offs, o.offs), label).toBe(true);
  expect(same(at.corners, o.corners), label).toBe(true);
  return new Float32Array(memory.buffer, at.y, ny).slice();
}

describe("convForward module", () => {
  it("relu keeps NaN, zeroes negatives and -Infinity, keeps +Infinity", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = instantiateConvForward(memory)!;
    const heap = new Float32Array(memory.buffer);
    // one 1x1 tap, 1 input channel, 9 output channels (a block of 8 and one scalar column), 5
    // pixels (a group of 4 and a short one): y = x * w
    const x = [1, -2, Number.NaN, Number.POSITIVE_INFINITY, 3];
    const w = [1, -1, 0.5, 2, -3, 1, 1, 1, -1];
    heap.set(x, 0);
    heap.set(w, 16);
    heap.fill(0, 32, 41); // bias
    new Int32Array(memory.buffer).set([0], 48); // offs
    new Int32Array(memory.buffer).set([0, 4, 8, 12, 16], 64); // corners
    for (const relu of [0, 1]) {
      m.conv(0, 64, 400, 128, 192, 256, 320, 1, 5, 20, 1, 9, relu);
      const y = Array.from(heap.subarray(100, 145));
      const want = x.flatMap((xi) =>
        w.map((wi) => {
          const v = Math.fround(xi * wi);
          return relu === 1 && v < 0 ? 0 : v;
        }),
      );
      expect(y).toEqual(want);
    }
  });

  it("the committed bytes are the assembled wasm/convForward.wat (run build:wasm after editing it)", async () => {
    expect(
      Buffer.from(convForwardWasmBytes()).equals(Buffer.from(await assembleWasm("convForward"))),
    ).toBe(true);
  });

  it("agrees with the float64 oracle within the float32 bound, at 4-byte offsets, writing only y", () => {
    const memory = new WebAssembly.Memory({ initial: 40 });
    const m = instantiateConvForward(memory);
    expect(m, "Node 20 supports WebAssembly SIMD").toBeDefined();
    const r = rng(505);
    const all = cases(17, 90);
    const coutTails = new Set<number>();
    let strided = 0;
    let dilated = 0;
    let padded = 0;
    let straddling = 0;
    let shortLast = 0;
    let biased = 0;
    let relus = 0;
    for (const k of all) {
      const g = infoOf(k);
      coutTails.add(g.outChannels % 8);
      if (g.strideHeight > 1 || g.strideWidth > 1) strided++;
      if (g.dilationHeight > 1 || g.dilationWidth > 1) dilated++;
      if (paddedLayout(g).copy) padded++;
      const pixels = g.outHeight * g.outWidth;
      if (g.batchSize > 1 && pixels % 4 !== 0) straddling++;
      if ((g.batchSize * pixels) % 4 !== 0) shortLast++;
      const withBias = r() < 0.5;
      if (withBias) biased++;
      const relu = r() < 0.4;
      if (relu) relus++;
      const o = operands(r, g, withBias);
      const shift = 4 * int(r, 0, 3);
      const label = `${k.label} bias ${withBias} relu ${relu} shift ${shift}`;
      const y = runModule(m!, memory, g, o, shift, label, relu);
      const n = o.offs.length + (withBias ? 1 : 0);
      const exact = oracle(o.x, o.w, g, withBias ? o.bias : undefined);
      expectWithinBound(y, relu ? throughRelu(exact) : exact, n, label);
      if (relu)
        expect(
          y.every((v) => v >= 0 || Object.is(v, -0)),
          label,
        ).toBe(true);
    }
    expect(coutTails.size, "Cout of every residue mod 8").toBe(8);
    expect(strided, "strided cases").toBeGreaterThan(15);
    expect(dilated, "dilated cases").toBeGreaterThan(15);
    expect(padded, "cases read from a padded copy").toBeGreaterThan(30);
    expect(straddling, "groups of 4 pixels straddling two images").toBeGreaterThan(15);
    expect(shortLast, "short last groups").toBeGreaterThan(30);
    expect(biased, "cases with a bias").toBeGreaterThan(25);
    expect(relus, "cases through relu").toBeGreaterThan(20);
  });

  it("pad writes the same bytes as padInto (JS), at 4-byte offsets, and nothing outside xp", () => {
    const memory = new WebAssembly.Memory({ initial: 40 });
    const m = instantiateConvForward(memory)!;
    const r = rng(404);
    const heap = new Float32Array(memory.buffer);
    let copied = 0;
    let cut = 0;
    for (const k of cases(29, 80)) {
      const g = infoOf(k);
      const layout = paddedLayout(g);
      if (!layout.copy) continue;
      copied++;
      if (layout.height < g.inHeight + g.padInfo.top || layout.width < g.inWidth + g.padInfo.left)
        cut++;
      const x = normals(r, g.batchSize * g.inHeight * g.inWidth * g.inChannels);
      const want = new Float32Array(g.batchSize * layout.height * layout.width * g.inChannels);
      padInto(x, want, g, layout.height, layout.width);
      const shift = int(r, 0, 3);
      const atX = 16 + shift;
      const atXp = 200_000 + shift;
      heap.set(x, atX);
      heap.fill(12345, atXp - 4, atXp + want.length + 4);
      m.pad(4 * atX, 4 * atXp, ...padArgs(g, layout.height, layout.width));
      const got = heap.subarray(atXp, atXp + want.length);
      expect(
        Buffer.from(got.buffer, got.byteOffset, 4 * got.length).equals(Buffer.from(want.buffer)),
        k.label,
      ).toBe(true);
      expect(Array.from(heap.subarray(atXp - 4, atXp)), k.label).toEqual(Array(4).fill(12345));
      const after = atXp + want.length;
      expect(Array.from(heap.subarray(after, after + 4)), k.label).toEqual(Array(4).fill(12345));
      expect(Array.from(heap.subarray(atX, atX + x.length)), k.label).toEqual(Array.from(x));
    }
    expect(copied, "padded cases").toBeGreaterThan(40);
    expect(cut, "cases whose extent cuts rows or columns of x").toBeGreaterThan(5);
  });

  it("catches mutations: a tap offset dropped, the filter transposed as XNNPACK packs it", () => {
    const memory = new WebAssembly.Memory({ initial: 40 });
    const m = instantiateConvForward(memory)!;
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
    const o = operands(r, g, false);
    const want = oracle(o.x, o.w, g);
    const n = o.offs.length;
    expect(outsideBound(runModule(m, memory, g, o, 4, "intact"), want, n)).toBe(undefined);
    // tap 5 reads tap 4's input
    const offs = o.offs.slice();
    offs[5] = offs[4] as number;
    expect(outsideBound(runModule(m, memory, g, { ...o, offs }, 4, "tap"), want, n)).toMatch(
      /element/,
    );
    // [Cout, K], as the wasm package transposes the filter for XNNPACK, read as [K, Cout]
    const t = new Float32Array(o.w.length);
    const cout = g.outChannels;
    for (let i = 0; i < n; i++) for (let c = 0; c < cout; c++) t[c * n + i] = o.w[i * cout + c]!;
    expect(outsideBound(runModule(m, memory, g, { ...o, w: t }, 4, "transposed"), want, n)).toMatch(
      /element/,
    );
  });

  it("zero images, pixels, taps or output channels write nothing", () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const m = instantiateConvForward(memory)!;
    const heap = new Float32Array(memory.buffer);
    heap.fill(5);
    const call = (batch: number, pixels: number, k: number, cout: number) =>
      m.conv(0, 4000, 8000, 12000, 16000, 20000, 24000, batch, pixels, 64, k, cout, 1);
    call(0, 4, 9, 8);
    call(2, 0, 9, 8);
    call(2, 4, 0, 8);
    call(2, 4, 9, 0);
    expect(heap.every((v) => v === 5)).toBe(true);
  });
});

describe("Conv2D on wasm", () => {
  it("is the registered kernel and finds the module on the backend's own memory", () => {
    expect(tf.getKernel("Conv2D", "wasm")?.kernelFunc).toBe(conv2D);
    const m = convForwardFor(tf.backend() as BackendWasm);
    expect(m).toBeDefined();
    expect(convForwardFor(tf.backend() as BackendWasm), "instantiated once, then cached").toBe(m);
  });

  it("the rule takes the module for the bench CNN's layers and XNNPACK for filters over 256 KB", () => {
    const g = (cin: number, cout: number) =>
      backend_util.computeConv2DInfo([2, 13, 13, cin], [3, 3, cin, cout], 1, 1, "valid");
    expect(useDirectConv2D(g(1, 32))).toBe(true);
    expect(useDirectConv2D(g(32, 64))).toBe(true);
    expect(9 * 64 * 114).toBeGreaterThan(directMaxFilterFloats);
    expect(useDirectConv2D(g(64, 114))).toBe(false);
  });

  it("runs the module where the rule says; agrees with the oracle, tfjs's cpu kernel and XNNPACK", () => {
    let calls = 0;
    const counting = (b: BackendWasm): ConvForwardExports | undefined => {
      const m = convForwardFor(b);
      if (m === undefined) return undefined;
      return {
        ...m,
        conv: (...a) => {
          calls++;
          m.conv(...a);
        },
      };
    };
    const viaRule = "TestConv2DRule";
    const viaModule = "TestConv2DModule";
    const viaXnnpack = "TestConv2DXnnpack";
    tf.registerKernel({
      kernelName: viaRule,
      backendName: "wasm",
      kernelFunc: conv2DWith(counting),
    });
    tf.registerKernel({
      kernelName: viaModule,
      backendName: "wasm",
      kernelFunc: conv2DWith(convForwardFor, () => true),
    });
    tf.registerKernel({
      kernelName: viaXnnpack,
      backendName: "wasm",
      kernelFunc: conv2DWith(() => undefined),
    });
    const r = rng(707);
    // The bench CNN's calls (batch scaled down), a strided same layer, one above the rule's limit
    // (XNNPACK), and random cases.
    const fixed: Case[] = [
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
      {
        xShape: [2, 14, 15, 16],
        filter: [3, 3, 16, 24],
        strides: [2, 2],
        dilations: [1, 1],
        pad: "same",
        label: "stride 2 same",
      },
      {
        xShape: [1, 6, 5, 64],
        filter: [3, 3, 64, 120],
        strides: [1, 1],
        dilations: [1, 1],
        pad: "same",
        label: "over the limit",
      },
    ];
    const all = [...fixed, ...cases(19, 40)];
    let expected = 0;
    let overflowing = 0;
    let xnnpackWrong = 0;
    try {
      for (const k of all) {
        const g = infoOf(k);
        const broken = xnnpackOverflows(k.pad, g);
        if (broken) overflowing++;
        if (useDirectConv2D(g) || broken) expected++;
        const x: HostTensor = {
          values: normals(
            r,
            k.xShape.reduce((a, b) => a * b, 1),
          ),
          shape: [...k.xShape],
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
        const attrs = {
          strides: k.strides,
          pad: k.pad,
          dataFormat: "NHWC",
          dilations: k.dilations,
        };
        const want = oracle(x.values as Float32Array, filter.values as Float32Array, g);
        const n = g.filterHeight * g.filterWidth * g.inChannels;
        const shape = [g.batchSize, g.outHeight, g.outWidth, g.outChannels];
        const got = runOn("wasm", "Conv2D", { x, filter }, attrs);
        const rule = runOn("wasm", viaRule, { x, filter }, attrs);
        const module = runOn("wasm", viaModule, { x, filter }, attrs);
        // XNNPACK writes past its output where xnnpackOverflows says: never run there
        const xnn = broken ? undefined : runOn("wasm", viaXnnpack, { x, filter }, attrs);
        const cpu = runOn("cpu", "Conv2D", { x, filter }, attrs);
        expect(got.shape, k.label).toEqual(shape);
        expect(module.shape, k.label).toEqual(shape);
        expect(cpu.shape, k.label).toEqual(shape);
        expect(Array.from(rule.values), `rule ${k.label}`).toEqual(Array.from(got.values));
        expectWithinBound(got.values, want, n, `registered ${k.label}`);
        expectWithinBound(module.values, want, n, `module ${k.label}`);
        // The XNNPACK kernel is the old path and the fallback: held to the bound on the fixed
        // cases; on random ones it is also wrong elsewhere (upstream), which is only counted.
        if (xnn !== undefined && fixed.includes(k))
          expectWithinBound(xnn.values, want, n, `XNNPACK ${k.label}`);
        if (xnn !== undefined && outsideBound(xnn.values, want, n) !== undefined) xnnpackWrong++;
        // cpu sums in float32 too (its own order): within the same bound
        expectWithinBound(cpu.values, want, n, `cpu ${k.label}`);
        // so the module and cpu differ by at most twice the bound
        const cpuAsRef = {
          value: Float64Array.from(cpu.values),
          abs: want.abs.map((a) => 2 * a),
        };
        expectWithinBound(module.values, cpuAsRef, n, `module vs cpu ${k.label}`);
      }
      expect(expected, "cases on each side of the rule").toBeLessThan(all.length);
      expect(overflowing, "cases XNNPACK gets wrong, taken by the module").toBeGreaterThan(0);
      // e.g. x [2, 7, 9, 3], filter [1, 2, 3, 9], stride 3, same: XNNPACK returns zeros
      expect(xnnpackWrong, "random cases where the XNNPACK kernel is wrong (upstream)").toBe(
        xnnpackWrongExpected,
      );
      expect(calls, "the module ran exactly where the rule says").toBe(expected);
    } finally {
      tf.unregisterKernel(viaRule, "wasm");
      tf.unregisterKernel(viaModule, "wasm");
      tf.unregisterKernel(viaXnnpack, "wasm");
    }
  });

  it("FusedConv2D: the module for linear and relu, with and without a bias; other activations on XNNPACK", () => {
    expect(tf.getKernel("FusedConv2D", "wasm")?.kernelFunc).toBe(fusedConv2D);
    let calls = 0;
    const counting = (b: BackendWasm): ConvForwardExports | undefined => {
      const m = convForwardFor(b);
      if (m === undefined) return undefined;
      return {
        ...m,
        conv: (...a) => {
          calls++;
          m.conv(...a);
        },
      };
    };
    const viaRule = "TestFusedConv2DRule";
    const viaXnnpack = "TestFusedConv2DXnnpack";
    tf.registerKernel({
      kernelName: viaRule,
      backendName: "wasm",
      kernelFunc: fusedConv2DWith(counting),
    });
    tf.registerKernel({
      kernelName: viaXnnpack,
      backendName: "wasm",
      kernelFunc: fusedConv2DWith(() => undefined),
    });
    const r = rng(808);
    const activations = ["linear", "relu", "elu"] as const;
    let expected = 0;
    const all = cases(23, 24).filter((k) => !xnnpackOverflows(k.pad, infoOf(k)));
    try {
      all.forEach((k, i) => {
        const g = infoOf(k);
        const activation = activations[i % 3] as (typeof activations)[number];
        const withBias = i % 2 === 0;
        if (activation !== "elu" && useDirectConv2D(g)) expected++;
        const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
        const x: HostTensor = {
          values: normals(r, size(k.xShape)),
          shape: [...k.xShape],
          dtype: "float32",
        };
        const filter: HostTensor = {
          values: normals(r, size(k.filter)),
          shape: [...k.filter],
          dtype: "float32",
        };
        const bias: HostTensor = {
          values: normals(r, g.outChannels),
          shape: [g.outChannels],
          dtype: "float32",
        };
        const inputs = withBias ? { x, filter, bias } : { x, filter };
        const attrs = {
          strides: k.strides,
          pad: k.pad,
          dataFormat: "NHWC",
          dilations: k.dilations,
          activation,
        };
        const label = `${k.label} ${activation} bias ${withBias}`;
        const got = runOn("wasm", "FusedConv2D", inputs, attrs);
        const rule = runOn("wasm", viaRule, inputs, attrs);
        const xnn = runOn("wasm", viaXnnpack, inputs, attrs);
        const cpu = runOn("cpu", "FusedConv2D", inputs, attrs);
        expect(Array.from(rule.values), label).toEqual(Array.from(got.values));
        if (activation === "elu") {
          // not the module's: the wasm package's own kernel, as before
          expect(Array.from(got.values), label).toEqual(Array.from(xnn.values));
          return;
        }
        const n = g.filterHeight * g.filterWidth * g.inChannels + (withBias ? 1 : 0);
        const exact = oracle(
          x.values as Float32Array,
          filter.values as Float32Array,
          g,
          withBias ? (bias.values as Float32Array) : undefined,
        );
        const want = activation === "relu" ? throughRelu(exact) : exact;
        expectWithinBound(got.values, want, n, `module ${label}`);
        expectWithinBound(cpu.values, want, n, `cpu ${label}`);
      });
      expect(calls, "the module ran for every linear and relu call the rule takes").toBe(expected);
      expect(expected, "module calls").toBeGreaterThan(10);
    } finally {
      tf.unregisterKernel(viaRule, "wasm");
      tf.unregisterKernel(viaXnnpack, "wasm");
    }
  });

  it("a conv layer trains and predicts alike on wasm and cpu (Conv2D, FusedConv2D)", async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const layer = tf.layers.conv2d({
          filters: 6,
          kernelSize: 3,
          activation: "relu",
          kernelInitializer: tf.initializers.randomNormal({ seed: 5 }),
          biasInitializer: tf.initializers.randomNormal({ seed: 6 }),
        });
        const x = tf.tensor4d(normals(rng(1), 2 * 9 * 9 * 2), [2, 9, 9, 2]);
        const predicted = layer.apply(x) as tf.Tensor; // FusedConv2D (no tape)
        const { value, grads } = tf.variableGrads(() =>
          (layer.apply(x) as tf.Tensor).square().sum().asScalar(),
        ); // Conv2D (relu under a tape is not fused)
        return {
          predicted: predicted.dataSync().slice(),
          loss: value.dataSync()[0] as number,
          grads: Object.values(grads).map((t) => t.dataSync().slice()),
        };
      });
    };
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let scale = 0;
      for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i] as number));
      for (let i = 0; i < b.length; i++)
        expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThanOrEqual(
          1e-5 * scale + 1e-6,
        );
    };
    close(wasm.predicted, cpu.predicted);
    close([wasm.loss], [cpu.loss]);
    expect(wasm.grads.length).toBe(2);
    for (const [i, g] of wasm.grads.entries()) close(g, cpu.grads[i] as Float32Array);
  });

  it("refuses a filter whose input channels are not x's with a clear error", () => {
    tf.setBackend("wasm");
    const w = tf.zeros([3, 3, 4, 4]);
    const x = tf.zeros([2, 6, 6, 3]);
    let caught: unknown;
    try {
      tf.engine().runKernel("Conv2D", { x, filter: w }, {
        strides: [1, 1],
        pad: "valid",
        dataFormat: "NHWC",
        dilations: [1, 1],
      } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WiderFailure);
    expect(isWiderError(caught) && caught.kind).toBe("shape");
    expect((caught as Error).message).toMatch(/same C/);
    tf.dispose([w, x]);
  });

  it("refuses, where the module cannot take it, a call XNNPACK would compute past its output", () => {
    tf.setBackend("wasm");
    const x = tf.zeros([2, 7, 8, 1]);
    const w = tf.zeros([3, 1, 1, 14]);
    const attrs = { strides: [3, 3], pad: 1, dataFormat: "NHWC", dilations: [1, 1] };
    const g = backend_util.computeConv2DInfo([2, 7, 8, 1], [3, 1, 1, 14], 3, 1, 1);
    expect(xnnpackOverflows(1, g)).toBe(true);
    expect(xnnpackOverflows("same", g)).toBe(false);
    for (const kernelFunc of [conv2DWith(() => undefined), fusedConv2DWith(() => undefined)]) {
      const name = "TestConv2DNoModule";
      tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc });
      let caught: unknown;
      try {
        tf.engine().runKernel(name, { x, filter: w }, {
          ...attrs,
          activation: "linear",
        } as unknown as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2]);
      } catch (e) {
        caught = e;
      } finally {
        tf.unregisterKernel(name, "wasm");
      }
      expect(caught).toBeInstanceOf(WiderFailure);
      expect(isWiderError(caught) && caught.kind).toBe("unsupported");
      expect((caught as Error).message).toMatch(/writes past it/);
    }
    // the registered kernel takes it with the module, as [2, 3, 3, 14] (tfjs's size)
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 3, 1);
    expect(y.shape).toEqual([2, 3, 3, 14]);
    tf.dispose([x, w, y]);
  });

  it("leaks neither tensors nor wasm heap over 300 calls (Conv2D same, FusedConv2D valid + bias + relu, stride 2)", () => {
    tf.setBackend("wasm");
    const w = tf.randomNormal([3, 3, 5, 6], 0, 1, "float32", 3) as tf.Tensor4D;
    const x = tf.randomNormal([3, 9, 9, 5], 0, 1, "float32", 4) as tf.Tensor4D;
    const b = tf.randomNormal([6], 0, 1, "float32", 5) as tf.Tensor1D;
    const run = (pad: "same" | "valid") =>
      pad === "same"
        ? tf.conv2d(x, w, 2, pad)
        : tf.fused.conv2d({ x, filter: w, strides: 2, pad, bias: b, activation: "relu" });
    tf.dispose([run("same"), run("valid")]);
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    const heap = wasmHeapBytes();
    for (let i = 0; i < 300; i++) tf.dispose(run(i % 2 === 0 ? "same" : "valid"));
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(wasmHeapBytes()).toBe(heap);
    tf.dispose([w, x, b]);
  });
});
