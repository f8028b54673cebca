/**
 * `MaxPoolGrad` on the wasm backend: a direct loop over the wasm heap that sends each
 * output gradient to the FIRST maximum of its window (row-major), as the cpu backend and
 * TensorFlow do. Replaces tfjs-backend-wasm 4.22.0's kernel, which is slow, picks the
 * last maximum on ties and is wrong for even pool sizes with `same` padding on odd inputs.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
} from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { need } from "./wasmKernelCall.js";

/** `MaxPoolGrad` for wasm: gradient routed to the first maximum of each window. */
export const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const dy = need(inputs, "dy");
  const input = need(inputs, "input");
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  if (input.dtype !== "float32" || dy.dtype !== "float32") {
    fail(
      "unsupported",
      `@wider/backend: wasm MaxPoolGrad supports float32 only, got ${input.dtype}.`,
      {
        path: "dtype",
        value: input.dtype,
        fix: "cast to float32",
      },
    );
  }
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const out = wasm.makeOutput(input.shape, "float32");
  // Views are taken after the allocation: growing the heap detaches older views.
  const dx = wasm.typedArrayFromHeap(out) as Float32Array;
  const x = wasm.typedArrayFromHeap(input) as Float32Array;
  const g = wasm.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight, effectiveFilterWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const output = inputs.output;
  const geometry: Geometry = {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    filterHeight: effectiveFilterHeight,
    filterWidth: effectiveFilterWidth,
    padTop,
    padLeft,
  };
  if (output === undefined) firstGreater(x, g, dx, geometry);
  else firstEqual(x, wasm.typedArrayFromHeap(output) as Float32Array, g, dx, geometry);
  return out;
};

/** The pooling geometry the loops need. */
interface Geometry {
  readonly batchSize: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/**
 * With the pooled output `y` at hand, the first maximum of a window is its first position
 * (row-major) equal to `y`: a cheaper, mostly predictable search. A window whose maximum is
 * -Infinity gets no gradient, as on cpu (whose strict '>' never fires there).
 */
function firstEqual(
  x: Float32Array,
  y: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  k: Geometry,
): void {
  const rowStride = k.inWidth * k.inChannels;
  const imageStride = k.inHeight * rowStride;
  const c = k.inChannels;
  let o = 0;
  for (let b = 0; b < k.batchSize; ++b) {
    for (let yr = 0; yr < k.outHeight; ++yr) {
      const r0 = yr * k.strideHeight - k.padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(k.inHeight, r0 + k.filterHeight);
      for (let yc = 0; yc < k.outWidth; ++yc, o += c) {
        const c0 = yc * k.strideWidth - k.padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(k.inWidth, c0 + k.filterWidth);
        const corner = b * imageStride + rMin * rowStride + cMin * c;
        const rows = rMax - rMin;
        const cols = cMax - cMin;
        for (let d = 0; d < c; ++d) {
          const m = y[o + d] as number;
          if (m === Number.NEGATIVE_INFINITY) continue;
          let at = -1;
          for (let r = 0, q = corner + d; r < rows && at < 0; ++r, q += rowStride) {
            for (let j = 0, p = q; j < cols; ++j, p += c) {
              if (x[p] === m) {
                at = p;
                break;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (g[o + d] as number);
        }
      }
    }
  }
}

/** Without the pooled output: the first strictly greater value wins, as in the cpu backend. */
function firstGreater(x: Float32Array, g: Float32Array, dx: Float32Array, k: Geometry): void {
  const rowStride = k.inWidth * k.inChannels;
  const imageStride = k.inHeight * rowStride;
  const c = k.inChannels;
  let o = 0;
  for (let b = 0; b < k.batchSize; ++b) {
    for (let yr = 0; yr < k.outHeight; ++yr) {
      const r0 = yr * k.strideHeight - k.padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(k.inHeight, r0 + k.filterHeight);
      for (let yc = 0; yc < k.outWidth; ++yc, o += c) {
        const c0 = yc * k.strideWidth - k.padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(k.inWidth, c0 + k.filterWidth);
        const corner = b * imageStride + rMin * rowStride + cMin * c;
        for (let d = 0; d < c; ++d) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = rMin, q = corner + d; r < rMax; ++r, q += rowStride) {
            for (let j = cMin, p = q; j < cMax; ++j, p += c) {
              const v = x[p] as number;
              if (v > best) {
                best = v;
                at = p;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (g[o + d] as number);
        }
      }
    }
  }
}

/** Kernel config: `MaxPoolGrad` on wasm. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: "MaxPoolGrad",
  backendName: "wasm",
  kernelFunc: maxPoolGrad,
};
