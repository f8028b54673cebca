/**
 * A direct forward `Conv2D` on the wasm backend: the convolution as a GEMM of the implicit patch
 * matrix of `x` with the HWIO filter (already the [KH * KW * Cin, Cout] matrix of that GEMM), in a
 * small SIMD module (wasm/convForward.wat) on the backend's own memory that reads both where they
 * lie: no packing, no indirection buffer. tfjs-backend-wasm 4.22.0 runs XNNPACK's convolution,
 * whose operator it caches per filter tensor (a training step's filter is a new tensor, so every
 * call transposes and packs the filter and builds a new operator; bench/convForward.ts measures
 * that at a few percent of the call) and whose implicit GEMM over an indirection buffer is slow for
 * few input channels (the bench CNN's first layer, K = 9: 2.4 G multiply-adds per second, a fifth
 * of what it reaches on the second layer). Used where `useDirectConv2D` says (the measured rule:
filters up to 256 KB);
 * XNNPACK stays the path elsewhere, where the module cannot run (no WebAssembly SIMD, or the
 * threaded build, whose memory is shared and not exported) and for other dtypes.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { assertChannelsLast } from "./conv2dGrad.js";
import { paddedLayout, padInto, tapOffsets } from "./convFilterGrad.js";
import { convForwardWasmBase64 } from "./convForwardWasm.js";
import { fail } from "./errors.js";
import { callWasm, free, need } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The functions of the forward-convolution module; pointers and strides are in bytes. */
export interface ConvForwardExports {
  /**
   * `y` [batch, pixels, cout] = bias + patch(x) x w (see wasm/convForward.wat): `x` the (padded)
   * input, `w` [k, cout], `bias` cout floats, `offs` k int32 tap offsets, `corners` `pixels`
   * int32 patch corners in one image, `spare` cout floats of scratch, `xImage` the bytes of one
   * (padded) image.
   */
  readonly conv: (
    x: number,
    w: number,
    y: number,
    bias: number,
    offs: number,
    corners: number,
    spare: number,
    batch: number,
    pixels: number,
    xImage: number,
    k: number,
    cout: number,
  ) => void;
}

/** Finds the module for a backend (a parameter so tests can take the XNNPACK path). */
export type ConvForwardModuleOf = (backend: BackendWasm) => ConvForwardExports | undefined;

/** Whether the direct module should compute a (float32, NHWC) call described by `info`. */
export type DirectRule = (info: backend_util.Conv2DInfo) => boolean;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const convForwardWasmBytes = (): Uint8Array<ArrayBuffer> => wasmBytes(convForwardWasmBase64);

/**
 * Instantiates the module on `memory`, or returns undefined where it cannot run (no WebAssembly
 * SIMD, or a memory it cannot import, e.g. a shared one).
 */
export function instantiateConvForward(memory: WebAssembly.Memory): ConvForwardExports | undefined {
  // Typed by the .wat source: conv(i32 x 12).
  return instantiateOn<ConvForwardExports>(convForwardWasmBytes(), memory, ["conv"]);
}

const cached = perBackend(instantiateConvForward);

/**
 * The module instantiated on the backend's linear memory, or undefined where it is not reachable
 * or cannot run.
 */
export function convForwardFor(backend: BackendWasm): ConvForwardExports | undefined {
  return cached(backend);
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The largest filter (KH * KW * Cin * Cout floats, 256 KB) for which the module replaces XNNPACK:
 * the module streams the whole filter once per group of 4 output pixels, so it must stay in L2
 * (bench/convForward.ts: 1.1-1.7x faster up to 147K floats, K = 9 to 1,152; 0.77x at 590K).
 */
export const directMaxFilterFloats = 65536;

/** The measured rule: the module for filters of at most `directMaxFilterFloats`, XNNPACK above. */
export const useDirectConv2D: DirectRule = (info) =>
  info.filterHeight * info.filterWidth * info.inChannels * info.outChannels <=
  directMaxFilterFloats;

/**
 * Whether the wasm package's XNNPACK kernel would compute another output size than tfjs allocated
 * (and write past it): for a numeric `pad`, tfjs-core 4.22.0 sizes both axes with the filter height
 * and the stride of the height axis, XNNPACK each axis with its own (x [2, 7, 8, 1], filter
 * [3, 1, 1, 14], stride 3, pad 1: tfjs allocates 3 output columns, XNNPACK writes 4 and corrupts
 * the heap). Checked per axis from the padding tfjs reports: floor((in + pads - (f - 1) * d - 1) /
 * s) + 1 against `info` (same padding: XNNPACK's own TensorFlow-same mode, always in agreement).
 */
export function xnnpackOverflows(pad: unknown, info: backend_util.Conv2DInfo): boolean {
  if (pad === "same") return false;
  const { top, bottom, left, right } = info.padInfo;
  const size = (n: number, before: number, after: number, f: number, d: number, s: number) =>
    Math.floor((n + before + after - (f - 1) * d - 1) / s) + 1;
  return (
    size(info.inHeight, top, bottom, info.filterHeight, info.dilationHeight, info.strideHeight) !==
      info.outHeight ||
    size(info.inWidth, left, right, info.filterWidth, info.dilationWidth, info.strideWidth) !==
      info.outWidth
  );
}

/**
 * The byte offset in one (padded, `width` columns) image of each output pixel's patch corner, in
 * raster order: (oh * sH * width + ow * sW) * Cin * 4.
 */
export function cornerTable(info: backend_util.Conv2DInfo, width: number): Int32Array {
  const out = new Int32Array(info.outHeight * info.outWidth);
  const pixel = info.inChannels * 4;
  for (let oh = 0; oh < info.outHeight; oh++)
    for (let ow = 0; ow < info.outWidth; ow++)
      out[oh * info.outWidth + ow] =
        (oh * info.strideHeight * width + ow * info.strideWidth) * pixel;
  return out;
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/**
 * The NHWC convolution [B, OH, OW, Cout] described by `info` of `x` with the HWIO `filter`, by the
 * module `m` on the backend's memory. The caller owns the result.
 */
export function directConv2D(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  m: ConvForwardExports,
): TensorInfo {
  const cin = info.inChannels;
  const cout = info.outChannels;
  const k = info.filterHeight * info.filterWidth * cin;
  const pixels = info.outHeight * info.outWidth;
  const layout = paddedLayout(info);
  const y = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, cout], "float32");
  if (info.batchSize * pixels * cout === 0) return y;
  const offs = backend.makeOutput([Math.max(1, k)], "int32");
  const corners = backend.makeOutput([pixels], "int32");
  const bias = backend.makeOutput([cout], "float32");
  const spare = backend.makeOutput([cout], "float32");
  const xp =
    layout.copy && k > 0
      ? backend.makeOutput([info.batchSize, layout.height, layout.width, cin], "float32")
      : undefined;
  try {
    // Views and offsets are taken after the last allocation: growing the heap detaches older views.
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    (view(bias) as Float32Array).fill(0);
    if (k === 0) {
      (view(y) as Float32Array).fill(0); // an empty sum
      return y;
    }
    (view(offs) as Int32Array).set(tapOffsets(info, layout.width));
    (view(corners) as Int32Array).set(cornerTable(info, layout.width));
    if (xp !== undefined)
      padInto(view(x) as Float32Array, view(xp) as Float32Array, info, layout.height, layout.width);
    const at = (t: TensorInfo) => view(t).byteOffset;
    m.conv(
      at(xp ?? x),
      at(filter),
      at(y),
      at(bias),
      at(offs),
      at(corners),
      at(spare),
      info.batchSize,
      pixels,
      layout.height * layout.width * cin * 4,
      k,
      cout,
    );
  } finally {
    free(backend, offs, corners, bias, spare, ...(xp === undefined ? [] : [xp]));
  }
  return y;
}

/**
 * `Conv2D` for wasm, finding the direct SIMD module with `moduleOf` and choosing it by `rule`:
 * the module for float32 calls the rule picks (and those XNNPACK would get wrong,
 * `xnnpackOverflows`) where it can run, the wasm package's own (XNNPACK) kernel otherwise.
 */
export const conv2DWith =
  (moduleOf: ConvForwardModuleOf, rule: DirectRule = useDirectConv2D): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const x = need(inputs, "x");
    const filter = need(inputs, "filter");
    const { strides, pad, dataFormat, dilations, dimRoundingMode } =
      attrs as unknown as Conv2DAttrs;
    assertChannelsLast("Conv2D", dataFormat);
    if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[2] !== x.shape[3]) {
      fail(
        "shape",
        `@wider/backend: wasm Conv2D got x [${x.shape}] and filter [${filter.shape}]; x must be ` +
          `[B, H, W, C] and the filter [KH, KW, C, Cout] with the same C.`,
        {
          path: "filter",
          value: filter.shape,
          fix: "pass a rank-4 NHWC input and an HWIO filter whose third axis is the input's channels",
        },
      );
    }
    if (x.dtype === "float32" && filter.dtype === "float32") {
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides,
        dilations,
        pad,
        dimRoundingMode,
        false,
      );
      if (rule(info) || xnnpackOverflows(pad, info)) {
        const m = moduleOf(wasm);
        if (m !== undefined) return directConv2D(wasm, x, filter, info, m);
      }
    }
    return callWasm(wasm, "Conv2D", inputs, attrs, true);
  };

/** `Conv2D` for wasm: the direct module where `useDirectConv2D` says, XNNPACK otherwise. */
export const conv2D: KernelFunc = conv2DWith(convForwardFor);

/** Kernel config: `Conv2D` on wasm. */
export const conv2DConfig: KernelConfig = {
  kernelName: "Conv2D",
  backendName: "wasm",
  kernelFunc: conv2D,
};
