/**
 * What the kernel benches share: the median of timings, the load average line, and the relative
 * difference of two paths' outputs.
 *
 * @module
 */
import { loadavg } from "node:os";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { TensorInfo } from "@tensorflow/tfjs-core";

/** The median (upper middle) of `xs`. */
export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** "load average 0.12 0.34 0.56" (1, 5 and 15 minutes). */
export const loadAverage = (): string =>
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;

/** max |a − b| / max |a| of two outputs of the same shape; disposes both. */
export const relativeDiff = (backend: BackendWasm, a: TensorInfo, b: TensorInfo): number => {
  const va = backend.readSync(a.dataId) as Float32Array;
  const vb = backend.readSync(b.dataId) as Float32Array;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < va.length; i++) {
    diff = Math.max(diff, Math.abs((va[i] as number) - (vb[i] as number)));
    scale = Math.max(scale, Math.abs(va[i] as number));
  }
  backend.disposeData(a.dataId);
  backend.disposeData(b.dataId);
  return diff / scale;
};
