/**
 * `UnsortedSegmentSum` on the wasm backend (missing in tfjs-backend-wasm 4.22.0; it is the
 * gradient of `gather`, hence of `embedding` layers): a loop over the wasm heap. Segment
 * ids outside [0, numSegments) are dropped, as in TensorFlow.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type KernelConfig,
  type KernelFunc,
  type UnsortedSegmentSumAttrs,
  util,
} from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { need } from "./wasmKernelCall.js";

/** `UnsortedSegmentSum` for wasm: `out[ids[i], ...] += x[i, ...]`. */
export const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = need(inputs, "x");
  const segmentIds = need(inputs, "segmentIds");
  const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    fail(
      "unsupported",
      `@wider/backend: wasm UnsortedSegmentSum supports float32/int32, got ${x.dtype}.`,
      {
        path: "dtype",
        value: x.dtype,
      },
    );
  }
  const idsRank = segmentIds.shape.length;
  const inner = x.shape.slice(idsRank);
  const innerSize = util.sizeFromShape(inner);
  const numIds = util.sizeFromShape(segmentIds.shape);
  const out = wasm.makeOutput([numSegments, ...inner], x.dtype);
  const o = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const xs = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array;
  o.fill(0);
  for (let i = 0; i < numIds; ++i) {
    const s = ids[i] as number;
    if (s < 0 || s >= numSegments) continue;
    const src = i * innerSize;
    const dst = s * innerSize;
    for (let j = 0; j < innerSize; ++j)
      o[dst + j] = (o[dst + j] as number) + (xs[src + j] as number);
  }
  return out;
};

/** Kernel config: `UnsortedSegmentSum` on wasm. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: "UnsortedSegmentSum",
  backendName: "wasm",
  kernelFunc: unsortedSegmentSum,
};
