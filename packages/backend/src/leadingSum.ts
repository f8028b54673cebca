/**
 * `Sum` over leading axes on the wasm backend (bias gradients: a [B,H,W,C] gradient summed
 * over B, H, W). tfjs-backend-wasm 4.22.0 first transposes the whole tensor to make the
 * reduced axes innermost; we add rows in place with float64 accumulators instead. Other
 * reductions go to the original kernel.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type KernelConfig, type KernelFunc, util } from "@tensorflow/tfjs-core";
import { callWasm, need } from "./wasmKernelCall.js";

/** The number of leading axes `axis` reduces, or -1 if it is not exactly [0, k). */
export function leadingAxes(axis: number | number[] | undefined, rank: number): number {
  if (axis === undefined) return -1;
  const axes = [
    ...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a))),
  ].sort((p, q) => p - q);
  return axes.every((a, i) => a === i) && axes.length < rank ? axes.length : -1;
}

/** `Sum` for wasm: leading-axes float32 sums by a loop over the heap; else the original. */
export const sum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = need(inputs, "x");
  const { axis, keepDims } = (attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
  const k = leadingAxes(axis, x.shape.length);
  if (x.dtype !== "float32" || k <= 0) return callWasm(wasm, "Sum", inputs, attrs ?? {}, true);
  const rows = util.sizeFromShape(x.shape.slice(0, k));
  const innerShape = x.shape.slice(k);
  const inner = util.sizeFromShape(innerShape);
  const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...innerShape] : innerShape;
  const out = wasm.makeOutput(outShape, "float32");
  const o = wasm.typedArrayFromHeap(out) as Float32Array;
  const xs = wasm.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(inner);
  for (let r = 0; r < rows; ++r) {
    const base = r * inner;
    for (let j = 0; j < inner; ++j) acc[j] = (acc[j] as number) + (xs[base + j] as number);
  }
  o.set(acc);
  return out;
};

/** Kernel config: `Sum` on wasm. */
export const sumConfig: KernelConfig = { kernelName: "Sum", backendName: "wasm", kernelFunc: sum };
