/**
 * A direct forward `Conv2D` (and `FusedConv2D`) on the wasm backend: the convolution as a GEMM of
 * the implicit patch matrix of `x` with the HWIO filter (already the [KH * KW * Cin, Cout] matrix of
 * that GEMM), in a small SIMD module (wasm/convForward.wat) on the backend's own memory that reads
 * both where they lie: no filter packing, no indirection buffer (x is copied only where padding
 * must be made explicit, by the module). tfjs-backend-wasm 4.22.0 runs XNNPACK's convolution,
 * whose operator it caches per filter tensor: a training step's filter is a new tensor, so every
 * call transposes and packs the filter into a new operator, but that measured at most a few
 * percent of the call (bench/convForward.ts, "same filter" column). The time is the convolution
 * itself: on the bench CNN's first layer (K = 9) XNNPACK reaches 7 G multiply-adds per second
 * (the module 11), on the second (K = 288) 15 (the module 18). Used where `useDirectConv2D` says
 * (the measured rule: filters up to 256 KB) and where XNNPACK would write past its output
 * (`xnnpackOverflows`); XNNPACK stays the path for larger filters, where the module cannot run (no
 * WebAssembly SIMD, or the threaded build, whose memory is shared and not exported) and for other
 * dtypes.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DAttrs,
  type FusedConv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { assertChannelsLast } from "./conv2dGrad.js";
import { paddedLayout, tapOffsets } from "./convFilterGrad.js";
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
   * `y` [batch, pixels, cout] = bias + patch(x) x w (see wasm/convForward.wat), through relu when
   * `relu` is 1: `x` the (padded) input, `w` [k, cout], `bias` cout floats, `offs` k int32 tap
   * offsets, `corners` `pixels` int32 patch corners in one image, `spare` cout floats of scratch,
   * `xImage` the bytes of one (padded) image.
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
    relu: number,
  ) => void;
  /**
   * Zeroes `total` bytes at `xp` and copies x's rows into it (see wasm/convForward.wat and
   * `padArgs`).
   */
  readonly pad: (
    x: number,
    xp: number,
    total: number,
    batch: number,
    h: number,
    xRow: number,
    height: number,
    xpRow: number,
    top: number,
    src: number,
    dst: number,
    copy: number,
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
  // Typed by the .wat source: conv(i32 x 13), pad(i32 x 12).
  return instantiateOn<ConvForwardExports>(convForwardWasmBytes(), memory, ["conv", "pad"]);
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
 * The arguments of the module's `pad` after the two pointers, for the padded extent `height` x
 * `width` of `info` (as `padInto`: x at row `top`, column `left`, rows and columns outside the
 * extent dropped): total, batch, h, xRow, height, xpRow, top, src, dst, copy (bytes).
 */
export function padArgs(
  info: backend_util.Conv2DInfo,
  height: number,
  width: number,
): [number, number, number, number, number, number, number, number, number, number] {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c } = info;
  const left = info.padInfo.left;
  const col0 = Math.max(0, -left); // first column of x copied (left >= 0 in tfjs; kept general)
  const col1 = Math.min(w, width - left); // one past the last
  const pixel = c * 4;
  return [
    b * height * width * pixel,
    b,
    h,
    w * pixel,
    height,
    width * pixel,
    info.padInfo.top,
    col0 * pixel,
    (col0 + left) * pixel,
    Math.max(0, col1 - col0) * pixel,
  ];
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
 * module `m` on the backend's memory, plus `bias` ([Cout] float32) when given, through relu when
 * `relu`. The caller owns the result.
 */
export function directConv2D(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  m: ConvForwardExports,
  fused: { readonly bias?: TensorInfo; readonly relu?: boolean } = {},
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
  const zeros = fused.bias === undefined ? backend.makeOutput([cout], "float32") : undefined;
  const bias = fused.bias ?? (zeros as TensorInfo);
  const spare = backend.makeOutput([cout], "float32");
  const xp =
    layout.copy && k > 0
      ? backend.makeOutput([info.batchSize, layout.height, layout.width, cin], "float32")
      : undefined;
  try {
    // Views and offsets are taken after the last allocation: growing the heap detaches older views.
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    if (zeros !== undefined) (view(zeros) as Float32Array).fill(0);
    if (k === 0) {
      // an empty sum: the bias, through relu
      const b = view(bias) as Float32Array;
      const out = view(y) as Float32Array;
      for (let i = 0; i < out.length; i++) {
        const v = b[i % cout] as number;
        out[i] = fused.relu === true && v < 0 ? 0 : v;
      }
      return y;
    }
    (view(offs) as Int32Array).set(tapOffsets(info, layout.width));
    (view(corners) as Int32Array).set(cornerTable(info, layout.width));
    const at = (t: TensorInfo) => view(t).byteOffset;
    if (xp !== undefined) m.pad(at(x), at(xp), ...padArgs(info, layout.height, layout.width));
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
      fused.relu === true ? 1 : 0,
    );
  } finally {
    free(backend, offs, corners, spare, ...[zeros, xp].filter((t) => t !== undefined));
  }
  return y;
}

/** The geometry of an NHWC convolution of `x` by `filter` with `attrs` (tfjs's computeConv2DInfo). */
const conv2DInfo = (
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
): backend_util.Conv2DInfo =>
  backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
  );

/**
 * The geometry of a `Conv2D` / `FusedConv2D` call when the module may compute it (float32 operands,
 * and `rule` says so or XNNPACK would get it wrong), else undefined; throws for NCHW and for operands
 * that do not make a convolution.
 */
function directGeometry(
  kernel: string,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  rule: DirectRule,
): backend_util.Conv2DInfo | undefined {
  const { pad, dataFormat } = attrs;
  assertChannelsLast(kernel, dataFormat);
  if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[2] !== x.shape[3]) {
    fail(
      "shape",
      `@wider/backend: wasm ${kernel} got x [${x.shape}] and filter [${filter.shape}]; x must be ` +
        `[B, H, W, C] and the filter [KH, KW, C, Cout] with the same C.`,
      {
        path: "filter",
        value: filter.shape,
        fix: "pass a rank-4 NHWC input and an HWIO filter whose third axis is the input's channels",
      },
    );
  }
  if (x.dtype !== "float32" || filter.dtype !== "float32") return undefined;
  const info = conv2DInfo(x, filter, attrs);
  return rule(info) || xnnpackOverflows(pad, info) ? info : undefined;
}

/**
 * The wasm package's own kernel `name`, refusing (with a message, instead of corrupting the heap)
 * the calls where XNNPACK would write past its output (`xnnpackOverflows`) and the module cannot
 * take them (it cannot run, or the call is not float32 / not a linear or relu `FusedConv2D`).
 */
function xnnpackKernel(
  backend: BackendWasm,
  name: string,
  x: TensorInfo,
  filter: TensorInfo,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const { strides, pad } = attrs as unknown as Conv2DAttrs;
  const info = conv2DInfo(x, filter, attrs as unknown as Conv2DAttrs);
  if (xnnpackOverflows(pad, info)) {
    fail(
      "unsupported",
      `@wider/backend: wasm ${name} with numeric padding ${String(pad)}, filter ` +
        `[${filter.shape}] and strides [${String(strides)}] would be computed by XNNPACK, which ` +
        `sizes the output differently from tfjs ([${info.outShape}]) and writes past it.`,
      {
        path: "pad",
        value: pad,
        fix: "use 'same', 'valid' or explicit padding, or a square filter with equal strides (or float32 operands and a linear or relu activation, which the direct module takes)",
      },
    );
  }
  return callWasm(backend, name, inputs, attrs, true);
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
    const info = directGeometry("Conv2D", x, filter, attrs as unknown as Conv2DAttrs, rule);
    const m = info === undefined ? undefined : moduleOf(wasm);
    if (info !== undefined && m !== undefined) return directConv2D(wasm, x, filter, info, m);
    return xnnpackKernel(wasm, "Conv2D", x, filter, inputs, attrs);
  };

/** `Conv2D` for wasm: the direct module where `useDirectConv2D` says, XNNPACK otherwise. */
export const conv2D: KernelFunc = conv2DWith(convForwardFor);

/**
 * `FusedConv2D` for wasm (tfjs-layers' convolutions outside gradient tapes, and inside them when
 * the activation is linear), as `conv2DWith`, for a bias of shape [Cout] (or none) and a linear or
 * relu activation; the wasm package's own kernel for other activations and biases.
 */
export const fusedConv2DWith =
  (moduleOf: ConvForwardModuleOf, rule: DirectRule = useDirectConv2D): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const x = need(inputs, "x");
    const filter = need(inputs, "filter");
    const bias = inputs.bias ?? undefined;
    const fusedAttrs = attrs as unknown as FusedConv2DAttrs;
    const activation = fusedAttrs.activation ?? "linear";
    const info = directGeometry("FusedConv2D", x, filter, fusedAttrs, rule);
    const simple =
      (activation === "linear" || activation === "relu") &&
      (bias === undefined ||
        (bias.dtype === "float32" && bias.shape.length === 1 && bias.shape[0] === filter.shape[3]));
    const m = info === undefined || !simple ? undefined : moduleOf(wasm);
    if (info !== undefined && m !== undefined)
      return directConv2D(wasm, x, filter, info, m, {
        ...(bias === undefined ? {} : { bias }),
        relu: activation === "relu",
      });
    return xnnpackKernel(wasm, "FusedConv2D", x, filter, inputs, attrs);
  };

/** `FusedConv2D` for wasm: the direct module where `useDirectConv2D` says, XNNPACK otherwise. */
export const fusedConv2D: KernelFunc = fusedConv2DWith(convForwardFor);

/** Kernel config: `Conv2D` on wasm. */
export const conv2DConfig: KernelConfig = {
  kernelName: "Conv2D",
  backendName: "wasm",
  kernelFunc: conv2D,
};

/** Kernel config: `FusedConv2D` on wasm. */
export const fusedConv2DConfig: KernelConfig = {
  kernelName: "FusedConv2D",
  backendName: "wasm",
  kernelFunc: fusedConv2D,
};
