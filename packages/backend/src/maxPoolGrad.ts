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
import { need } from "./wasmKernelCall.js";

/** `MaxPoolGrad` for wasm: gradient routed to the first maximum of each window. */
export const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const dy = need(inputs, "dy");
  const input = need(inputs, "input");
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  if (input.dtype !== "float32" || dy.dtype !== "float32") {
    throw new Error(`@wider/backend: wasm MaxPoolGrad supports float32 only, got ${input.dtype}.`);
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
  const rowStride = inWidth * inChannels;
  const imageStride = inHeight * rowStride;
  // Channels innermost: the heap is read contiguously; `best`/`at` hold one window per channel.
  const best = new Float32Array(inChannels);
  const at = new Int32Array(inChannels);
  for (let b = 0; b < batchSize; ++b) {
    const imageBase = b * imageStride;
    for (let yr = 0; yr < outHeight; ++yr) {
      const r0 = yr * strideHeight - padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(inHeight, r0 + effectiveFilterHeight);
      for (let yc = 0; yc < outWidth; ++yc) {
        const c0 = yc * strideWidth - padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(inWidth, c0 + effectiveFilterWidth);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        // Row-major window order with a strict '>' keeps the first maximum.
        for (let r = rMin; r < rMax; ++r) {
          for (let c = cMin; c < cMax; ++c) {
            const p = imageBase + r * rowStride + c * inChannels;
            for (let d = 0; d < inChannels; ++d) {
              const v = x[p + d] as number;
              if (v > (best[d] as number)) {
                best[d] = v;
                at[d] = p + d;
              }
            }
          }
        }
        const o = ((b * outHeight + yr) * outWidth + yc) * inChannels;
        for (let d = 0; d < inChannels; ++d) {
          const q = at[d] as number;
          if (q >= 0) dx[q] = (dx[q] as number) + (g[o + d] as number);
        }
      }
    }
  }
  return out;
};

/** Kernel config: `MaxPoolGrad` on wasm. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: "MaxPoolGrad",
  backendName: "wasm",
  kernelFunc: maxPoolGrad,
};
