/**
 * `Identity` and same-dtype `Cast` on the wasm backend without copying: like the cpu
 * backend, the output shares the input's data (reference-counted; no wasm kernel writes
 * into its inputs). tfjs-backend-wasm 4.22.0 copies the whole buffer, which costs a full
 * pass over every activation whose gradient goes through `relu` (a `Cast` of `Step`).
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KernelConfig, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { callWasm, need } from "./wasmKernelCall.js";

function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** `Identity` for wasm: shares the data. */
export const identity: KernelFunc = ({ inputs, backend }) => {
  const x = need(inputs, "x");
  if (x.dtype === "string") return callWasm(backend as BackendWasm, "Identity", inputs, {}, true);
  return share(backend as BackendWasm, x);
};

/** `Cast` for wasm: shares the data when the dtype does not change, else the original. */
export const cast: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = need(inputs, "x");
  if (attrs?.dtype === x.dtype && x.dtype !== "string") return share(backend as BackendWasm, x);
  return callWasm(backend as BackendWasm, "Cast", inputs, attrs ?? {}, true);
};

/** Kernel config: `Identity` on wasm. */
export const identityConfig: KernelConfig = {
  kernelName: "Identity",
  backendName: "wasm",
  kernelFunc: identity,
};

/** Kernel config: `Cast` on wasm. */
export const castConfig: KernelConfig = {
  kernelName: "Cast",
  backendName: "wasm",
  kernelFunc: cast,
};
