/**
 * `WiderMoments` on the wasm backend: the per-channel mean and biased variance of a
 * channels-last float32 tensor (tf.moments over every axis but the last), for
 * @wider/averaging's BatchNorm re-estimation, which looks the name up with `getKernel` and
 * otherwise composes `Sum`, `SquaredDifference`, `Sum` (three passes over the activations, one
 * of them writing a tensor as large as the input). Here it is two read-only passes of a small
 * SIMD module (wasm/moments.wat) on the backend's own memory, accumulating in float64; where the
 * module cannot run (no WebAssembly SIMD, or the threaded build whose memory is not exported) a
 * JS loop over the heap does the same float64 arithmetic in the same order, so both give the
 * same float32 numbers bit for bit.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type KernelConfig, type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { momentsWasmBase64 } from "./momentsWasm.js";
import { free, need } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Kernel name of the moments: input `{ x }` (float32, rank >= 1, channels last), no attrs;
 * outputs `[mean, variance]`, float32 of shape `[channels]` (variance biased, as tf.moments).
 */
export const momentsKernelName = "WiderMoments";

/** The functions of the moments module; pointers are byte offsets. */
export interface MomentsExports {
  /** `x`: `rows * c` float32; `acc`: room for `2 * c` float64; `mean`, `variance`: `c` float32. */
  readonly moments: (
    x: number,
    rows: number,
    c: number,
    acc: number,
    mean: number,
    variance: number,
  ) => void;
  /**
   * Pass 1 alone (leading-axis `Sum`): `out[j]` = the float64 sum over rows of `x[r * c + j]`,
   * rounded to float32. `x`: `rows * c` float32; `acc`: room for `c` float64; `out`: `c` float32.
   */
  readonly columnSums: (x: number, rows: number, c: number, acc: number, out: number) => void;
}

/** Finds the moments module for a backend (a parameter so tests can take the fallback). */
export type MomentsModuleOf = (backend: BackendWasm) => MomentsExports | undefined;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const momentsWasmBytes = (): Uint8Array<ArrayBuffer> => wasmBytes(momentsWasmBase64);

/**
 * Instantiates the moments module on `memory`, or returns undefined where it cannot run (no
 * WebAssembly SIMD, or a memory it cannot import, e.g. a shared one). Compiles synchronously:
 * the module is under a kilobyte, well under browsers' limit for that.
 */
export function instantiateMoments(memory: WebAssembly.Memory): MomentsExports | undefined {
  // Typed by the .wat source: moments(i32 x 6), columnSums(i32 x 5).
  return instantiateOn<MomentsExports>(momentsWasmBytes(), memory, ["moments", "columnSums"]);
}

const cached = perBackend(instantiateMoments);

/**
 * The module instantiated on the backend's linear memory (tfjs-backend-wasm 4.22.0 exports it as
 * the Emscripten module's `asm.memory`), or undefined where it is not reachable or cannot run.
 */
export function momentsFor(backend: BackendWasm): MomentsExports | undefined {
  return cached(backend);
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/**
 * The module's arithmetic as a JS loop over float32 views: float64 sums per channel, row by
 * row; mean = sum / rows; float64 sums of (x - mean)^2; variance = that / rows; rounded once.
 */
export function momentsLoop(
  x: Float32Array,
  rows: number,
  c: number,
  mean: Float32Array,
  variance: Float32Array,
): void {
  const m = new Float64Array(c);
  const s = new Float64Array(c);
  for (let r = 0, p = 0; r < rows; r++, p += c)
    for (let j = 0; j < c; j++) m[j] = (m[j] as number) + (x[p + j] as number);
  for (let j = 0; j < c; j++) m[j] = (m[j] as number) / rows;
  for (let r = 0, p = 0; r < rows; r++, p += c)
    for (let j = 0; j < c; j++) {
      const d = (x[p + j] as number) - (m[j] as number);
      s[j] = (s[j] as number) + d * d;
    }
  mean.set(m);
  for (let j = 0; j < c; j++) variance[j] = (s[j] as number) / rows;
}

/** `WiderMoments` on wasm, finding the module with `moduleOf` (the JS loop where it cannot run). */
export const momentsWith =
  (moduleOf: MomentsModuleOf): KernelFunc =>
  ({ inputs, backend }) => {
    const wasm = backend as BackendWasm;
    const x = need(inputs, "x");
    if (x.dtype !== "float32") {
      fail(
        "unsupported",
        `@wider/backend: ${momentsKernelName} takes a float32 tensor, got ${x.dtype}; cast first.`,
        { value: x.dtype, fix: "cast x to float32" },
      );
    }
    if (x.shape.length < 1) {
      fail(
        "shape",
        `@wider/backend: ${momentsKernelName} needs a channel axis (rank >= 1), got a scalar.`,
        { path: "x", value: x.shape, fix: "pass a tensor whose last axis holds the channels" },
      );
    }
    const c = x.shape[x.shape.length - 1] as number;
    const rows = c === 0 ? 0 : util.sizeFromShape(x.shape) / c;
    const mean = wasm.makeOutput([c], "float32");
    const variance = wasm.makeOutput([c], "float32");
    if (c === 0) return [mean, variance];
    const k = moduleOf(wasm);
    if (k === undefined) {
      momentsLoop(
        wasm.typedArrayFromHeap(x) as Float32Array,
        rows,
        c,
        wasm.typedArrayFromHeap(mean) as Float32Array,
        wasm.typedArrayFromHeap(variance) as Float32Array,
      );
      return [mean, variance];
    }
    // 2 * c float64 of scratch (16 bytes per channel); offsets are taken after the last
    // allocation, which may grow the memory.
    const acc: TensorInfo = wasm.makeOutput([4 * c], "float32");
    try {
      const at = (t: TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
      k.moments(at(x), rows, c, at(acc), at(mean), at(variance));
    } finally {
      free(wasm, acc);
    }
    return [mean, variance];
  };

/** `WiderMoments` on wasm: per-channel mean and biased variance, two float64 SIMD passes. */
export const moments: KernelFunc = momentsWith(momentsFor);

/** Kernel config: `WiderMoments` on wasm. */
export const momentsConfig: KernelConfig = {
  kernelName: momentsKernelName,
  backendName: "wasm",
  kernelFunc: moments,
};
