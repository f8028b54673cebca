/**
 * One-pass running-mean kernels for @wider/averaging on the wasm backend: `WiderSwaUpdate`
 * (`mean + (w - mean) / count`) and `WiderEmaUpdate` (`decay * mean + (1 - decay) * w`).
 * @wider/averaging looks these names up with `getKernel` and falls back to three elementwise
 * tfjs kernels when they are absent; here each update is a single pass of a small SIMD module
 * (wasm/runningMean.wat) that imports the backend's own linear memory, so it reads and writes
 * tensors where they are. The results are the same float32 numbers as the tensor rules. Where
 * the module cannot run (no WebAssembly SIMD, or a build whose memory is not exported, such as
 * the threaded one), the kernels compose the tensor rule from the backend's own kernels, so
 * they are never slower than the path they replace.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { runningMeanWasmBase64 } from "./runningMeanWasm.js";
import { callWasm, free, need } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Kernel name of the SWA update: inputs `{ mean, w }` (float32, same shape), attrs `{ count }`. */
export const swaUpdateKernelName = "WiderSwaUpdate";
/** Kernel name of the EMA update: inputs `{ mean, w }` (float32, same shape), attrs `{ decay }`. */
export const emaUpdateKernelName = "WiderEmaUpdate";

/** The functions of the running-mean module; pointers are byte offsets, `len` counts floats. */
export interface RunningMeanExports {
  readonly swa: (mean: number, w: number, out: number, len: number, count: number) => void;
  readonly ema: (
    mean: number,
    w: number,
    out: number,
    len: number,
    decay: number,
    complement: number,
  ) => void;
}

/** Finds the running-mean module for a backend (a parameter so tests can take the fallback). */
export type ModuleOf = (backend: BackendWasm) => RunningMeanExports | undefined;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const runningMeanWasmBytes = (): Uint8Array<ArrayBuffer> => wasmBytes(runningMeanWasmBase64);

/**
 * Instantiates the running-mean module on `memory`, or returns undefined where it cannot run
 * (no WebAssembly SIMD, or a memory it cannot import, e.g. a shared one). Compiles
 * synchronously: the module is a few hundred bytes, well under browsers' limit for that.
 */
export function instantiateRunningMean(memory: WebAssembly.Memory): RunningMeanExports | undefined {
  // Typed by the .wat source: swa(i32, i32, i32, i32, f32), ema(i32, i32, i32, i32, f32, f32).
  return instantiateOn<RunningMeanExports>(runningMeanWasmBytes(), memory, ["swa", "ema"]);
}

const cached = perBackend(instantiateRunningMean);

/**
 * The module instantiated on the backend's linear memory, or undefined when the memory is not
 * reachable (tfjs-backend-wasm 4.22.0 exports it as the Emscripten module's `asm.memory`; its
 * threaded build imports a shared memory instead) or the module cannot run there.
 */
export function runningMeanFor(backend: BackendWasm): RunningMeanExports | undefined {
  return cached(backend);
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/** A float32 scalar on the wasm heap; the caller frees it. */
function scalarInfo(wasm: BackendWasm, value: number): TensorInfo {
  const s = wasm.makeOutput([], "float32");
  (wasm.typedArrayFromHeap(s) as Float32Array)[0] = value;
  return s;
}

/** Checks the `{ mean, w }` inputs: float32, one shape. */
function operands(name: string, inputs: NamedTensorInfoMap): { mean: TensorInfo; w: TensorInfo } {
  const mean = need(inputs, "mean");
  const w = need(inputs, "w");
  if (mean.dtype !== "float32" || w.dtype !== "float32") {
    fail(
      "unsupported",
      `@wider/backend: ${name} takes float32 tensors, got mean ${mean.dtype} and w ${w.dtype}; cast first.`,
      { value: [mean.dtype, w.dtype], fix: "cast both to float32" },
    );
  }
  if (!util.arraysEqual(mean.shape, w.shape)) {
    fail(
      "shape",
      `@wider/backend: ${name}: mean has shape [${mean.shape}] but w has [${w.shape}].`,
      {
        path: "w",
        value: w.shape,
      },
    );
  }
  return { mean, w };
}

/** A number attr of a kernel call, or a clear error. */
function numberAttr(name: string, attrs: NamedAttrMap, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") {
    fail("config", `@wider/backend: ${name} needs a number attr '${key}', got ${String(v)}.`, {
      path: key,
      value: v,
    });
  }
  return v;
}

/** Runs the module on byte offsets: `(module, mean, w, out, len, attrs)`. */
type Simd = (
  k: RunningMeanExports,
  mean: number,
  w: number,
  out: number,
  len: number,
  attrs: NamedAttrMap,
) => void;

/** Composes the same rule from the backend's own kernels. */
type Fallback = (
  wasm: BackendWasm,
  mean: TensorInfo,
  w: TensorInfo,
  attrs: NamedAttrMap,
) => TensorInfo;

/**
 * A running-mean kernel: `simd` on the heap offsets of the inputs and of the output (offsets
 * taken after `makeOutput`, whose allocation may grow the memory), or `fallback` where the
 * module cannot run.
 */
function runningMeanKernel(
  name: string,
  moduleOf: ModuleOf,
  simd: Simd,
  fallback: Fallback,
): KernelFunc {
  return ({ inputs, attrs = {}, backend }) => {
    const wasm = backend as BackendWasm;
    const { mean, w } = operands(name, inputs);
    const k = moduleOf(wasm);
    if (k === undefined) return fallback(wasm, mean, w, attrs);
    const len = util.sizeFromShape(mean.shape);
    const out = wasm.makeOutput(mean.shape, "float32");
    if (len === 0) return out;
    const at = (t: TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
    simd(k, at(mean), at(w), at(out), len, attrs);
    return out;
  };
}

/** `WiderSwaUpdate` on wasm, finding the module with `moduleOf`. */
export const swaUpdateWith = (moduleOf: ModuleOf): KernelFunc =>
  runningMeanKernel(
    swaUpdateKernelName,
    moduleOf,
    (k, mean, w, out, len, attrs) =>
      k.swa(mean, w, out, len, numberAttr(swaUpdateKernelName, attrs, "count")),
    (wasm, mean, w, attrs) => {
      const count = scalarInfo(wasm, numberAttr(swaUpdateKernelName, attrs, "count"));
      const diff = callWasm(wasm, "Sub", { a: w, b: mean });
      const step = callWasm(wasm, "RealDiv", { a: diff, b: count });
      const out = callWasm(wasm, "Add", { a: mean, b: step });
      free(wasm, count, diff, step);
      return out;
    },
  );

/** `WiderEmaUpdate` on wasm, finding the module with `moduleOf`. */
export const emaUpdateWith = (moduleOf: ModuleOf): KernelFunc =>
  runningMeanKernel(
    emaUpdateKernelName,
    moduleOf,
    (k, mean, w, out, len, attrs) => {
      const decay = numberAttr(emaUpdateKernelName, attrs, "decay");
      k.ema(mean, w, out, len, decay, 1 - decay);
    },
    (wasm, mean, w, attrs) => {
      const decay = numberAttr(emaUpdateKernelName, attrs, "decay");
      const d = scalarInfo(wasm, decay);
      const c = scalarInfo(wasm, 1 - decay);
      const a = callWasm(wasm, "Multiply", { a: mean, b: d });
      const b = callWasm(wasm, "Multiply", { a: w, b: c });
      const out = callWasm(wasm, "Add", { a, b });
      free(wasm, d, c, a, b);
      return out;
    },
  );

/** `WiderSwaUpdate` on wasm: `mean + (w - mean) / count` in one pass. */
export const swaUpdate: KernelFunc = swaUpdateWith(runningMeanFor);

/** `WiderEmaUpdate` on wasm: `decay * mean + (1 - decay) * w` in one pass. */
export const emaUpdate: KernelFunc = emaUpdateWith(runningMeanFor);

/** Kernel config: `WiderSwaUpdate` on wasm. */
export const swaUpdateConfig: KernelConfig = {
  kernelName: swaUpdateKernelName,
  backendName: "wasm",
  kernelFunc: swaUpdate,
};

/** Kernel config: `WiderEmaUpdate` on wasm. */
export const emaUpdateConfig: KernelConfig = {
  kernelName: emaUpdateKernelName,
  backendName: "wasm",
  kernelFunc: emaUpdate,
};
