/**
 * Gradients of `Conv2D` on the wasm backend, composed from its XNNPACK forward `Conv2D`.
 *
 * - `Conv2DBackpropFilter`: the direct SIMD module of convFilterGrad.ts; where it cannot run,
 *   a forward convolution of the transposed input (channels as
 *   batch, batch as channels) with the transposed output gradient as filter, with
 *   dilation equal to the forward stride; then slice and transpose.
 * - `Conv2DBackpropInput`: the direct SIMD module of convInputGrad.ts; where it cannot run,
 *   zero-insertion of the output gradient (for strides > 1), a spatially reversed and
 *   in/out-swapped filter, and a forward convolution with stride 1 and the forward dilation.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import {
  type ConvFilterGradModuleOf,
  convFilterGradFor,
  directFilterGrad,
} from "./convFilterGrad.js";
import { type ConvInputGradModuleOf, convInputGradFor, directInputGrad } from "./convInputGrad.js";
import { fail } from "./errors.js";
import { callWasm, free, need, reshapeInfo, sliceInfo, transposeInfo } from "./wasmKernelCall.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The geometry of one spatial axis of a convolution: sizes, stride, dilation, padding. */
export interface AxisGeometry {
  readonly inSize: number;
  readonly outSize: number;
  readonly filterSize: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBefore: number;
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Throws for NCHW: the wasm forward convolution only supports channels-last either. */
export function assertChannelsLast(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== "NHWC" && dataFormat !== "channelsLast") {
    fail(
      "unsupported",
      `@wider/backend: wasm ${kernel} supports dataFormat 'NHWC' only, got '${dataFormat}'. ` +
        "Use channelsLast layers on the wasm backend.",
      { path: "dataFormat", value: dataFormat, fix: "use channelsLast layers on the wasm backend" },
    );
  }
}

/**
 * Padding (before, after) of the forward convolution that computes the filter gradient on
 * one axis: it must produce at least `filterSize` outputs; a negative minimum means the
 * last input rows are never read, so pad 0 and slice the result.
 */
export function filterGradPadding(g: AxisGeometry): readonly [number, number] {
  const needed =
    (g.filterSize - 1) * g.dilation + (g.outSize - 1) * g.stride + 1 - g.inSize - g.padBefore;
  return [g.padBefore, Math.max(0, needed)];
}

/**
 * Padding of the stride-1 convolution of the zero-inserted gradient (of length
 * `outSize * stride`) with the reversed filter, which yields `inSize` rows; negative
 * values are crops of the gradient (rows whose contributions land in the padding).
 */
export function inputGradPadding(g: AxisGeometry): readonly [number, number] {
  const before = (g.filterSize - 1) * g.dilation - g.padBefore;
  const after = g.inSize - g.outSize * g.stride + g.padBefore;
  return [before, after];
}

/** Zero-inserts `stride - 1` zeros after every row/column: [B,OH,OW,C] -> [B,OH*sh,OW*sw,C]. */
export function zeroInsert(
  backend: BackendWasm,
  dy: TensorInfo,
  strideHeight: number,
  strideWidth: number,
): TensorInfo {
  const [b, oh, ow, c] = dy.shape as [number, number, number, number];
  if (strideHeight === 1 && strideWidth === 1) return reshapeInfo(backend, dy, dy.shape);
  const r = reshapeInfo(backend, dy, [b * oh, 1, ow, 1, c]);
  const padded = callWasm(
    backend,
    "PadV2",
    { x: r },
    {
      paddings: [
        [0, 0],
        [0, strideHeight - 1],
        [0, 0],
        [0, strideWidth - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  const out = reshapeInfo(backend, padded, [b, oh * strideHeight, ow * strideWidth, c]);
  free(backend, r, padded);
  return out;
}

/**
 * Crops negative paddings off a [B,H,W,C] tensor and returns it with the non-negative
 * explicit padding to use instead; the caller owns the returned tensor.
 */
export function cropNegativePadding(
  backend: BackendWasm,
  x: TensorInfo,
  padH: readonly [number, number],
  padW: readonly [number, number],
): { readonly x: TensorInfo; readonly pad: number[][] } {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const cropTop = Math.max(0, -padH[0]);
  const cropBottom = Math.max(0, -padH[1]);
  const cropLeft = Math.max(0, -padW[0]);
  const cropRight = Math.max(0, -padW[1]);
  const pad = [
    [0, 0],
    [Math.max(0, padH[0]), Math.max(0, padH[1])],
    [Math.max(0, padW[0]), Math.max(0, padW[1])],
    [0, 0],
  ];
  if (cropTop + cropBottom + cropLeft + cropRight === 0) {
    return { x: reshapeInfo(backend, x, x.shape), pad };
  }
  const cropped = sliceInfo(
    backend,
    x,
    [0, cropTop, cropLeft, 0],
    [b, h - cropTop - cropBottom, w - cropLeft - cropRight, c],
  );
  return { x: cropped, pad };
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/**
 * `Conv2DBackpropFilter` for wasm, finding the direct SIMD module with `moduleOf`: the module for
 * float32 wherever it can run (faster on every geometry measured), the XNNPACK composition
 * `convFilterGrad` otherwise.
 */
export const conv2DBackpropFilterWith =
  (moduleOf: ConvFilterGradModuleOf): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const x = need(inputs, "x");
    const dy = need(inputs, "dy");
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      attrs as unknown as Conv2DBackpropFilterAttrs;
    assertChannelsLast("Conv2DBackpropFilter", dataFormat);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
    );
    const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    if (x.shape.length !== 4 || dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) {
      fail(
        "shape",
        `@wider/backend: wasm Conv2DBackpropFilter got x [${x.shape}] and dy [${dy.shape}]; for ` +
          `x [${x.shape}] and filter [${filterShape}] with these strides and padding, dy must be ` +
          `[${want}].`,
        {
          path: "dy",
          value: dy.shape,
          fix: `pass dy of shape [${want}] (the convolution's output)`,
        },
      );
    }
    if (x.dtype === "float32" && dy.dtype === "float32") {
      const m = moduleOf(wasm);
      if (m !== undefined) return directFilterGrad(wasm, x, dy, info, m);
    }
    return convFilterGrad(wasm, x, dy, info);
  };

/** `Conv2DBackpropFilter` for wasm (missing in tfjs-backend-wasm 4.22.0). */
export const conv2DBackpropFilter: KernelFunc = conv2DBackpropFilterWith(convFilterGradFor);

/** The filter gradient of a (non-depthwise) NHWC convolution described by `info`. */
export function convFilterGrad(
  backend: BackendWasm,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const padH = filterGradPadding({
    inSize: info.inHeight,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    dilation: info.dilationHeight,
    padBefore: info.padInfo.top,
  });
  const padW = filterGradPadding({
    inSize: info.inWidth,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    dilation: info.dilationWidth,
    padBefore: info.padInfo.left,
  });
  const xT = transposeInfo(backend, x, [3, 1, 2, 0]); // [ci, H, W, B]
  const dyT = transposeInfo(backend, dy, [1, 2, 0, 3]); // [OH, OW, B, co]
  const conv = callWasm(
    backend,
    "Conv2D",
    { x: xT, filter: dyT },
    {
      strides: [info.dilationHeight, info.dilationWidth],
      dilations: [info.strideHeight, info.strideWidth],
      pad: [[0, 0], [...padH], [...padW], [0, 0]],
      dataFormat: "NHWC",
      dimRoundingMode: "floor",
    },
  ); // [ci, KH', KW', co]
  free(backend, xT, dyT);
  const [ci, kh, kw, co] = conv.shape as [number, number, number, number];
  let cut = conv;
  if (kh !== info.filterHeight || kw !== info.filterWidth) {
    cut = sliceInfo(backend, conv, [0, 0, 0, 0], [ci, info.filterHeight, info.filterWidth, co]);
    free(backend, conv);
  }
  const dw = transposeInfo(backend, cut, [1, 2, 0, 3]);
  free(backend, cut);
  return dw;
}

/**
 * `Conv2DBackpropInput` for wasm, finding the direct SIMD module with `moduleOf`: the module for
 * float32 wherever it can run (faster on every geometry measured, bench/convInputGrad.ts), the
 * XNNPACK composition `xnnpackInputGrad` otherwise.
 */
export const conv2DBackpropInputWith =
  (moduleOf: ConvInputGradModuleOf): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const dy = need(inputs, "dy");
    const filter = need(inputs, "filter");
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      attrs as unknown as Conv2DBackpropInputAttrs;
    assertChannelsLast("Conv2DBackpropInput", dataFormat);
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
    );
    const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    if (
      filter.shape.length !== 4 ||
      filter.shape[2] !== info.inChannels ||
      dy.shape.length !== 4 ||
      dy.shape.some((d, i) => d !== want[i])
    ) {
      fail(
        "shape",
        `@wider/backend: wasm Conv2DBackpropInput got dy [${dy.shape}] and filter ` +
          `[${filter.shape}]; for an input of shape [${inputShape}] with this filter, strides and ` +
          `padding, dy must be [${want}] and the filter [KH, KW, ${info.inChannels}, Cout].`,
        {
          path: "dy",
          value: dy.shape,
          fix: `pass dy of shape [${want}] (the convolution's output) and the layer's filter`,
        },
      );
    }
    if (dy.dtype === "float32" && filter.dtype === "float32") {
      const m = moduleOf(wasm);
      if (m !== undefined) return directInputGrad(wasm, dy, filter, info, m);
    }
    return xnnpackInputGrad(wasm, dy, filter, info);
  };

/** `Conv2DBackpropInput` for wasm (replaces a naive loop ~7x slower). */
export const conv2DBackpropInput: KernelFunc = conv2DBackpropInputWith(convInputGradFor);

/**
 * The input gradient by XNNPACK: the filter reversed and transposed to [KH, KW, Cout, Cin], a
 * stride-1 forward `Conv2D` of the zero-inserted, padded `dy` (`convInputGrad`).
 */
export function xnnpackInputGrad(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
): TensorInfo {
  const wRev = callWasm(backend, "Reverse", { x: filter }, { dims: [0, 1] });
  const wT = transposeInfo(backend, wRev, [0, 1, 3, 2]); // [KH, KW, co, ci]
  free(backend, wRev);
  const dx = convInputGrad(backend, dy, info, (g, p) =>
    callWasm(
      backend,
      "Conv2D",
      { x: g, filter: wT },
      {
        strides: [1, 1],
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: p,
        dataFormat: "NHWC",
        dimRoundingMode: "floor",
      },
    ),
  );
  free(backend, wT);
  return dx;
}

/**
 * Zero-inserts `dy`, crops or pads it, and applies `conv` (a stride-1 forward convolution
 * with the reversed filter) with the explicit padding to use; the caller owns the result.
 */
export function convInputGrad(
  backend: BackendWasm,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  conv: (g: TensorInfo, pad: number[][]) => TensorInfo,
): TensorInfo {
  const padH = inputGradPadding({
    inSize: info.inHeight,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    dilation: info.dilationHeight,
    padBefore: info.padInfo.top,
  });
  const padW = inputGradPadding({
    inSize: info.inWidth,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    dilation: info.dilationWidth,
    padBefore: info.padInfo.left,
  });
  const inserted = zeroInsert(backend, dy, info.strideHeight, info.strideWidth);
  const cropped = cropNegativePadding(backend, inserted, padH, padW);
  free(backend, inserted);
  const out = conv(cropped.x, cropped.pad);
  free(backend, cropped.x);
  return out;
}

// -------------------------------------------------------------------------------------
// configs
// -------------------------------------------------------------------------------------

/** Kernel config: `Conv2DBackpropFilter` on wasm. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: "Conv2DBackpropFilter",
  backendName: "wasm",
  kernelFunc: conv2DBackpropFilter,
};

/** Kernel config: `Conv2DBackpropInput` on wasm. */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: "Conv2DBackpropInput",
  backendName: "wasm",
  kernelFunc: conv2DBackpropInput,
};
