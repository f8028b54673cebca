/**
 * `Sum` over leading axes on the wasm backend (bias gradients: a [B,H,W,C] gradient summed
 * over B, H, W). tfjs-backend-wasm 4.22.0 first transposes the whole tensor to make the
 * reduced axes innermost; we add rows in place with float64 accumulators instead, in the SIMD
 * module of `WiderMoments` (wasm/moments.wat, its pass 1: `columnSums`) on the backend's own
 * memory, or, where that module cannot run, in a JS loop doing the same float64 additions in the
 * same order (both give the same float32 sums bit for bit). Other reductions go to the original
 * kernel.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type KernelConfig, type KernelFunc, util } from "@tensorflow/tfjs-core";
import { type MomentsModuleOf, momentsFor } from "./moments.js";
import { callWasm, free, need } from "./wasmKernelCall.js";

/** The number of leading axes `axis` reduces, or -1 if it is not exactly [0, k). */
export function leadingAxes(axis: number | number[] | undefined, rank: number): number {
  if (axis === undefined) return -1;
  const axes = [
    ...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a))),
  ].sort((p, q) => p - q);
  return axes.every((a, i) => a === i) && axes.length < rank ? axes.length : -1;
}

/**
 * The module's arithmetic as a JS loop: `out[j]` = the float64 sum of `x[r * inner + j]` over
 * rows in order, rounded to float32 once.
 */
export function columnSumsLoop(
  x: Float32Array,
  rows: number,
  inner: number,
  out: Float32Array,
): void {
  const acc = new Float64Array(inner);
  for (let r = 0; r < rows; ++r) {
    const base = r * inner;
    for (let j = 0; j < inner; ++j) acc[j] = (acc[j] as number) + (x[base + j] as number);
  }
  out.set(acc);
}

/** `Sum` for wasm, finding the SIMD module with `moduleOf` (the JS loop where it cannot run). */
export const sumWith =
  (moduleOf: MomentsModuleOf): KernelFunc =>
  ({ inputs, backend, attrs }) => {
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
    if (inner === 0) return out;
    const m = moduleOf(wasm);
    if (m === undefined) {
      columnSumsLoop(
        wasm.typedArrayFromHeap(x) as Float32Array,
        rows,
        inner,
        wasm.typedArrayFromHeap(out) as Float32Array,
      );
      return out;
    }
    // `inner` float64 of scratch; offsets are taken after the last allocation, which may grow
    // the memory.
    const acc = wasm.makeOutput([2 * inner], "float32");
    try {
      const at = (t: typeof x) => wasm.typedArrayFromHeap(t).byteOffset;
      m.columnSums(at(x), rows, inner, at(acc), at(out));
    } finally {
      free(wasm, acc);
    }
    return out;
  };

/** `Sum` for wasm: leading-axes float32 sums by the SIMD module; other reductions: the original. */
export const sum: KernelFunc = sumWith(momentsFor);

/** Kernel config: `Sum` on wasm. */
export const sumConfig: KernelConfig = { kernelName: "Sum", backendName: "wasm", kernelFunc: sum };
