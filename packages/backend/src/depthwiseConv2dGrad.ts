/**
 * Gradients of `DepthwiseConv2dNative` on the wasm backend (both missing in
 * tfjs-backend-wasm 4.22.0), composed from its XNNPACK forward depthwise convolution.
 *
 * - input gradient: zero-insertion of `dy`, the filter reversed and seen as
 *   [KH, KW, C*M, 1], a stride-1 depthwise convolution, then a sum over the channel
 *   multiplier M;
 * - filter gradient: the input seen as one image with B*C channels, `dy` as a
 *   [OH, OW, B*C, M] depthwise filter, dilation equal to the forward stride; then slice
 *   and a sum over the batch.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
} from "@tensorflow/tfjs-core";
import { convInputGrad, filterGradPadding } from "./conv2dGrad.js";
import { callWasm, free, need, reshapeInfo, sliceInfo, transposeInfo } from "./wasmKernelCall.js";

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/** `DepthwiseConv2dNativeBackpropInput` for wasm. */
export const depthwiseConv2dNativeBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const dy = need(inputs, "dy");
  const filter = need(inputs, "filter");
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const wRev = callWasm(wasm, "Reverse", { x: filter }, { dims: [0, 1] });
  const wFlat = reshapeInfo(wasm, wRev, [kh, kw, c * m, 1]);
  free(wasm, wRev);
  const dxm = convInputGrad(wasm, dy, info, (g, p) =>
    callWasm(
      wasm,
      "DepthwiseConv2dNative",
      { x: g, filter: wFlat },
      {
        strides: [1, 1],
        dilations: [info.dilationHeight, info.dilationWidth],
        pad: p,
        dimRoundingMode: "floor",
      },
    ),
  ); // [B, H, W, C*M]
  free(wasm, wFlat);
  if (m === 1) return dxm;
  const [b, h, w] = dxm.shape as [number, number, number, number];
  const split = reshapeInfo(wasm, dxm, [b, h, w, c, m]);
  const dx = callWasm(wasm, "Sum", { x: split }, { axis: [4], keepDims: false });
  free(wasm, dxm, split);
  return dx;
};

/** `DepthwiseConv2dNativeBackpropFilter` for wasm. */
export const depthwiseConv2dNativeBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = need(inputs, "x");
  const dy = need(inputs, "dy");
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    true,
  );
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, , m] = filterShape;
  const [, oh, ow] = dy.shape as [number, number, number, number];
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
  const xT = transposeInfo(wasm, x, [1, 2, 0, 3]); // [H, W, B, C]
  const xImg = reshapeInfo(wasm, xT, [1, h, w, b * c]);
  const dyT = transposeInfo(wasm, dy, [1, 2, 0, 3]); // [OH, OW, B, C*M]
  const dyF = reshapeInfo(wasm, dyT, [oh, ow, b * c, m]);
  free(wasm, xT, dyT);
  const conv = callWasm(
    wasm,
    "DepthwiseConv2dNative",
    { x: xImg, filter: dyF },
    {
      strides: [info.dilationHeight, info.dilationWidth],
      dilations: [info.strideHeight, info.strideWidth],
      pad: [[0, 0], [...padH], [...padW], [0, 0]],
      dimRoundingMode: "floor",
    },
  ); // [1, KH', KW', B*C*M]
  free(wasm, xImg, dyF);
  const [, kh2, kw2] = conv.shape as [number, number, number, number];
  let cut = conv;
  if (kh2 !== kh || kw2 !== kw) {
    cut = sliceInfo(wasm, conv, [0, 0, 0, 0], [1, kh, kw, b * c * m]);
    free(wasm, conv);
  }
  const perBatch = reshapeInfo(wasm, cut, [kh, kw, b, c * m]);
  free(wasm, cut);
  let summed = perBatch;
  if (b > 1) {
    summed = callWasm(wasm, "Sum", { x: perBatch }, { axis: [2], keepDims: false });
    free(wasm, perBatch);
  }
  const dw = reshapeInfo(wasm, summed, [kh, kw, c, m]);
  free(wasm, summed);
  return dw;
};

// -------------------------------------------------------------------------------------
// configs
// -------------------------------------------------------------------------------------

/** Kernel config: `DepthwiseConv2dNativeBackpropInput` on wasm. */
export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: "DepthwiseConv2dNativeBackpropInput",
  backendName: "wasm",
  kernelFunc: depthwiseConv2dNativeBackpropInput,
};

/** Kernel config: `DepthwiseConv2dNativeBackpropFilter` on wasm. */
export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: "DepthwiseConv2dNativeBackpropFilter",
  backendName: "wasm",
  kernelFunc: depthwiseConv2dNativeBackpropFilter,
};
