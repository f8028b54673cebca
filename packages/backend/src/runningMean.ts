/**
 * One-pass running-mean kernels for @wider/averaging on the wasm backend: `WiderSwaUpdate`
 * (`mean + (w - mean) / count`) and `WiderEmaUpdate` (`decay * mean + (1 - decay) * w`).
 * @wider/averaging looks these names up with `getKernel` and falls back to three elementwise
 * tfjs kernels when they are absent; here each update is a single pass of a small SIMD module
 * (wasm/runningMean.wat) that imports the backend's own linear memory, so it reads and writes
 * tensors where they are. The results are the same float32 numbers as the tensor rules.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  type KernelConfig,
  type KernelFunc,
  type NamedTensorInfoMap,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import { runningMeanWasmBase64 } from "./runningMeanWasm.js";
import { need } from "./wasmKernelCall.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Kernel name of the SWA update: inputs `{ mean, w }` (float32, same size), attrs `{ count }`. */
export const swaUpdateKernelName = "WiderSwaUpdate";
/** Kernel name of the EMA update: inputs `{ mean, w }` (float32, same size), attrs `{ decay }`. */
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

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const runningMeanWasmBytes = (): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(runningMeanWasmBase64), (c) => c.charCodeAt(0));

/**
 * Instantiates the running-mean module on `memory`, or returns undefined where WebAssembly
 * SIMD is unavailable (the kernels then run their JavaScript loops). Compiles synchronously:
 * the module is 412 bytes, well under the browsers' limit for synchronous compilation.
 */
export function instantiateRunningMean(memory: WebAssembly.Memory): RunningMeanExports | undefined {
  const bytes = runningMeanWasmBytes();
  if (!WebAssembly.validate(bytes)) return undefined;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports as unknown as RunningMeanExports;
}

/** One instance per backend memory (a cache: instantiating again would give the same functions). */
const instances = new WeakMap<WebAssembly.Memory, RunningMeanExports | undefined>();

/**
 * The module instantiated on the backend's linear memory, or undefined when the memory is not
 * reachable (tfjs-backend-wasm 4.22.0 exposes it as the Emscripten module's `asm.memory`) or
 * SIMD is unavailable.
 */
function runningMeanFor(backend: BackendWasm): RunningMeanExports | undefined {
  // The Emscripten module type (@types/emscripten) does not declare `asm`; read it structurally.
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  if (!instances.has(memory)) instances.set(memory, instantiateRunningMean(memory));
  return instances.get(memory);
}

// -------------------------------------------------------------------------------------
// JavaScript fallbacks (same float32 roundings)
// -------------------------------------------------------------------------------------

/** `out = mean + (w - mean) / count`, rounding to float32 after each operation. */
export function swaUpdateJs(
  mean: Float32Array,
  w: Float32Array,
  out: Float32Array,
  count: number,
): void {
  const f = Math.fround;
  const c = f(count);
  for (let i = 0; i < mean.length; i++) {
    const m = mean[i] as number;
    out[i] = f(m + f(f((w[i] as number) - m) / c));
  }
}

/** `out = decay * mean + (1 - decay) * w`, rounding to float32 after each operation. */
export function emaUpdateJs(
  mean: Float32Array,
  w: Float32Array,
  out: Float32Array,
  decay: number,
): void {
  const f = Math.fround;
  const d = f(decay);
  const c = f(1 - decay);
  for (let i = 0; i < mean.length; i++) {
    out[i] = f(f(d * (mean[i] as number)) + f(c * (w[i] as number)));
  }
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

type Run = (
  exports: RunningMeanExports | undefined,
  mean: Float32Array,
  w: Float32Array,
  out: Float32Array,
) => void;

/** A running-mean kernel: checks the operands, allocates the output, runs `run` on heap views. */
function runningMeanKernel(
  name: string,
  attrsOf: (attrs: Record<string, unknown>) => Run,
): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const { mean, w } = operands(name, inputs);
    const run = attrsOf(attrs as Record<string, unknown>);
    const out = wasm.makeOutput(mean.shape, "float32");
    if (util.sizeFromShape(mean.shape) === 0) return out;
    // Views after makeOutput: an allocation may grow the memory and detach older views.
    run(
      runningMeanFor(wasm),
      wasm.typedArrayFromHeap(mean) as Float32Array,
      wasm.typedArrayFromHeap(w) as Float32Array,
      wasm.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
}

function operands(name: string, inputs: NamedTensorInfoMap): { mean: TensorInfo; w: TensorInfo } {
  const mean = need(inputs, "mean");
  const w = need(inputs, "w");
  if (mean.dtype !== "float32" || w.dtype !== "float32") {
    throw new Error(
      `@wider/backend: ${name} takes float32 tensors, got mean ${mean.dtype} and w ${w.dtype}; cast first.`,
    );
  }
  if (!util.arraysEqual(mean.shape, w.shape)) {
    throw new Error(
      `@wider/backend: ${name}: mean has shape [${mean.shape}] but w has [${w.shape}].`,
    );
  }
  return { mean, w };
}

function numberAttr(name: string, attrs: Record<string, unknown>, key: string): number {
  const v = attrs[key];
  if (typeof v !== "number") {
    throw new Error(`@wider/backend: ${name} needs a number attr '${key}', got ${String(v)}.`);
  }
  return v;
}

/** `WiderSwaUpdate` on wasm: `mean + (w - mean) / count` in one pass. */
export const swaUpdate: KernelFunc = runningMeanKernel(swaUpdateKernelName, (attrs) => {
  const count = numberAttr(swaUpdateKernelName, attrs, "count");
  return (k, mean, w, out) =>
    k === undefined
      ? swaUpdateJs(mean, w, out, count)
      : k.swa(mean.byteOffset, w.byteOffset, out.byteOffset, mean.length, count);
});

/** `WiderEmaUpdate` on wasm: `decay * mean + (1 - decay) * w` in one pass. */
export const emaUpdate: KernelFunc = runningMeanKernel(emaUpdateKernelName, (attrs) => {
  const decay = numberAttr(emaUpdateKernelName, attrs, "decay");
  return (k, mean, w, out) =>
    k === undefined
      ? emaUpdateJs(mean, w, out, decay)
      : k.ema(mean.byteOffset, w.byteOffset, out.byteOffset, mean.length, decay, 1 - decay);
});

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
