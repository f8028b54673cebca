/**
 * A direct `Conv2DBackpropFilter` on the wasm backend: the filter gradient as a GEMM of the
 * implicit patch matrix of `x` with `dy`, in a small SIMD module (wasm/convFilterGrad.wat) on the
 * backend's own memory, that reads both operands where they lie (no transposes, no XNNPACK
 * operator whose filter, here `dy`, is packed every call). Used for every float32 call where the
 * module can run: it was faster than the XNNPACK composition on every geometry measured
 * (bench/convFilterGrad.ts: 1.3-7.9x, KH * KW * Cin from 9 to 2,304, batch 1 to 128, images up to
 * 58 x 58). The composition stays the path where the module cannot run (no WebAssembly SIMD, or
 * the threaded build, whose memory is shared and not exported) and for other dtypes.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { backend_util, TensorInfo } from "@tensorflow/tfjs-core";
import { convFilterGradWasmBase64 } from "./convFilterGradWasm.js";
import { free } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The functions of the filter-gradient module; pointers and strides are in bytes. */
export interface ConvFilterGradExports {
  /**
   * `dw` [k, cout] = sum over pixels of patch(x) x dy (see wasm/convFilterGrad.wat): `x` the
   * (padded) input, `dy` [batch, oh, ow, cout], `offs` k int32 tap offsets, `spare` cout floats of
   * scratch; `xImage`, `xRow`, `xCol` the byte steps of x per image, output row and output column.
   */
  readonly filterGrad: (
    x: number,
    dy: number,
    dw: number,
    offs: number,
    spare: number,
    batch: number,
    oh: number,
    ow: number,
    xImage: number,
    xRow: number,
    xCol: number,
    k: number,
    cout: number,
    bandRows: number,
  ) => void;
}

/** Finds the module for a backend (a parameter so tests can take the XNNPACK path). */
export type ConvFilterGradModuleOf = (backend: BackendWasm) => ConvFilterGradExports | undefined;

/**
 * The input as the module reads it: `height` x `width` pixels per image (the padded extent, or
 * the input's own size when it is read in place).
 */
export interface PaddedLayout {
  /** Whether the input must be copied into a zero-padded buffer (false: read in place). */
  readonly copy: boolean;
  readonly height: number;
  readonly width: number;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const convFilterGradWasmBytes = (): Uint8Array<ArrayBuffer> =>
  wasmBytes(convFilterGradWasmBase64);

/**
 * Instantiates the module on `memory`, or returns undefined where it cannot run (no WebAssembly
 * SIMD, or a memory it cannot import, e.g. a shared one). Compiles synchronously: the module is
 * under two kilobytes, well under browsers' limit for that.
 */
export function instantiateConvFilterGrad(
  memory: WebAssembly.Memory,
): ConvFilterGradExports | undefined {
  // Typed by the .wat source: filterGrad(i32 x 14).
  return instantiateOn<ConvFilterGradExports>(convFilterGradWasmBytes(), memory, ["filterGrad"]);
}

const cached = perBackend(instantiateConvFilterGrad);

/**
 * The module instantiated on the backend's linear memory (tfjs-backend-wasm 4.22.0 exports it as
 * the Emscripten module's `asm.memory`), or undefined where it is not reachable or cannot run.
 */
export function convFilterGradFor(backend: BackendWasm): ConvFilterGradExports | undefined {
  return cached(backend);
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The extent of the input the taps read, padding included: rows 0 .. (OH - 1) * sH +
 * (KH - 1) * dH of the padded input (and the same for columns); the input is read in place when
 * there is no padding before and that extent lies inside it.
 */
export function paddedLayout(info: backend_util.Conv2DInfo): PaddedLayout {
  const height =
    (info.outHeight - 1) * info.strideHeight + (info.filterHeight - 1) * info.dilationHeight + 1;
  const width =
    (info.outWidth - 1) * info.strideWidth + (info.filterWidth - 1) * info.dilationWidth + 1;
  const inPlace =
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    height <= info.inHeight &&
    width <= info.inWidth;
  return inPlace
    ? { copy: false, height: info.inHeight, width: info.inWidth }
    : { copy: true, height, width };
}

/**
 * The cache budget of one band of output rows (their dy and the input rows they read), in floats:
 * the module passes over a band once per block of 4 x 8 outputs, so it should stay in L2 (64 KB;
 * 8K-64K floats measured alike on the bench CNN's calls; without bands, a 56 x 56 x 64 image took
 * 1.6x longer).
 */
export const bandFloats = 16384;

/** The number of output rows per band (at least 1) for `bandFloats`. */
export function bandRows(info: backend_util.Conv2DInfo, width: number): number {
  const perRow = info.outWidth * info.outChannels + info.strideHeight * width * info.inChannels;
  return Math.max(1, Math.floor(bandFloats / Math.max(1, perRow)));
}

/** The byte offset of each tap k = (kh * KW + kw) * Cin + ci from its patch corner. */
export function tapOffsets(info: backend_util.Conv2DInfo, width: number): Int32Array {
  const cin = info.inChannels;
  const out = new Int32Array(info.filterHeight * info.filterWidth * cin);
  let k = 0;
  for (let kh = 0; kh < info.filterHeight; kh++)
    for (let kw = 0; kw < info.filterWidth; kw++)
      for (let ci = 0; ci < cin; ci++, k++)
        out[k] = ((kh * info.dilationHeight * width + kw * info.dilationWidth) * cin + ci) * 4;
  return out;
}

/**
 * Copies `x` [B, H, W, C] into `out` [B, height, width, C] at row `top`, column `left` (both may
 * cut: rows and columns of x outside the extent are dropped), zeros elsewhere.
 */
export function padInto(
  x: Float32Array,
  out: Float32Array,
  info: backend_util.Conv2DInfo,
  height: number,
  width: number,
): void {
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: c } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  out.fill(0);
  const col0 = Math.max(0, -left); // first column of x copied (left >= 0 in tfjs; kept general)
  const col1 = Math.min(w, width - left); // one past the last
  if (col1 <= col0) return;
  for (let n = 0; n < b; n++)
    for (let r = 0; r < height; r++) {
      const ih = r - top;
      if (ih < 0 || ih >= h) continue;
      const src = ((n * h + ih) * w + col0) * c;
      out.set(
        x.subarray(src, src + (col1 - col0) * c),
        ((n * height + r) * width + col0 + left) * c,
      );
    }
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/**
 * The filter gradient [KH, KW, Cin, Cout] of the NHWC convolution described by `info`, by the
 * module `m` on the backend's memory. The caller owns the result.
 */
export function directFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  m: ConvFilterGradExports,
): TensorInfo {
  const cin = info.inChannels;
  const cout = info.outChannels;
  const k = info.filterHeight * info.filterWidth * cin;
  const layout = paddedLayout(info);
  const dw = backend.makeOutput([info.filterHeight, info.filterWidth, cin, cout], "float32");
  const offs = backend.makeOutput([Math.max(1, k)], "int32");
  const spare = backend.makeOutput([Math.max(1, cout)], "float32");
  const xp = layout.copy
    ? backend.makeOutput([info.batchSize, layout.height, layout.width, cin], "float32")
    : undefined;
  try {
    // Views and offsets are taken after the last allocation: growing the heap detaches older views.
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    (view(offs) as Int32Array).set(tapOffsets(info, layout.width));
    if (xp !== undefined)
      padInto(view(x) as Float32Array, view(xp) as Float32Array, info, layout.height, layout.width);
    const at = (t: TensorInfo) => view(t).byteOffset;
    const pixel = cin * 4;
    m.filterGrad(
      at(xp ?? x),
      at(dy),
      at(dw),
      at(offs),
      at(spare),
      info.batchSize,
      info.outHeight,
      info.outWidth,
      layout.height * layout.width * pixel,
      info.strideHeight * layout.width * pixel,
      info.strideWidth * pixel,
      k,
      cout,
      bandRows(info, layout.width),
    );
  } finally {
    free(backend, offs, spare, ...(xp === undefined ? [] : [xp]));
  }
  return dw;
}
