/**
 * Calling the wasm backend's own kernels from inside a kernel, and freeing the
 * intermediates they return. Internal to the package.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The kernels of the wasm backend as registered by @tensorflow/tfjs-backend-wasm, before we replaced any. */
const originals = new Map<string, KernelFunc>();

/** Remembers the wasm package's own kernel function for `name` (only the first time). */
export function rememberOriginal(name: string, kernelFunc: KernelFunc): void {
  if (!originals.has(name)) originals.set(name, kernelFunc);
}

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Runs the kernel `name` currently registered for `wasm` (or the remembered original when
 * `original` is set). The caller owns the returned TensorInfo and frees it with `free`.
 */
export function callWasm(
  backend: BackendWasm,
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
  original = false,
): TensorInfo {
  const kernelFunc = original ? originals.get(name) : getKernel(name, "wasm")?.kernelFunc;
  if (kernelFunc === undefined) {
    fail("version", `@wider/backend: kernel '${name}' is not registered for backend 'wasm'.`, {
      path: name,
      fix: "install @tensorflow/tfjs-backend-wasm 4.22.0",
    });
  }
  const out = kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) {
    fail("version", `@wider/backend: kernel '${name}' returned several outputs, expected one.`, {
      path: name,
    });
  }
  return out;
}

/** Frees intermediate TensorInfos created inside a kernel (reference-counted by the backend). */
export function free(backend: BackendWasm, ...infos: ReadonlyArray<TensorInfo>): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Reshape without copying (the wasm Reshape kernel shares the data and bumps its count). */
export function reshapeInfo(
  backend: BackendWasm,
  x: TensorInfo,
  shape: ReadonlyArray<number>,
): TensorInfo {
  return callWasm(backend, "Reshape", { x }, { shape: [...shape] });
}

/** Transpose through the wasm (XNNPACK) Transpose kernel. */
export function transposeInfo(
  backend: BackendWasm,
  x: TensorInfo,
  perm: ReadonlyArray<number>,
): TensorInfo {
  return callWasm(backend, "Transpose", { x }, { perm: [...perm] });
}

/** Slice through the wasm Slice kernel. */
export function sliceInfo(
  backend: BackendWasm,
  x: TensorInfo,
  begin: ReadonlyArray<number>,
  size: ReadonlyArray<number>,
): TensorInfo {
  return callWasm(backend, "Slice", { x }, { begin: [...begin], size: [...size] });
}

/** The input `name` of a kernel call; a missing input is a programmer error. */
export function need(inputs: NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined)
    fail("config", `@wider/backend: kernel input '${name}' is missing.`, { path: name });
  return t;
}
