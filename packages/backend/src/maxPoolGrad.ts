/**
 * `MaxPoolGrad` on the wasm backend: each output gradient goes to the FIRST maximum of its
 * window (row-major), as the cpu backend and TensorFlow do. Replaces tfjs-backend-wasm 4.22.0's
 * kernel, which is slow, picks the last maximum on ties and is wrong for even pool sizes with
 * `same` padding on odd inputs. The work is a small SIMD module (wasm/maxPoolGrad.wat, 4
 * channels per lane group) on the backend's own memory; where it cannot run (no WebAssembly
 * SIMD, or the threaded build whose memory is not exported), JS loops over the heap make the
 * same float32 additions in the same order, so both give the same numbers bit for bit.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { maxPoolGradWasmBase64 } from "./maxPoolGradWasm.js";
import { need } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The pooling geometry as the module takes it (after the pointers): batch, inH, inW, c, outH,
 * outW, strideH, strideW, filterH, filterW, padTop, padLeft.
 */
type GeometryArgs = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** The functions of the MaxPoolGrad module; pointers are byte offsets of float32 arrays. */
export interface MaxPoolGradExports {
  /** With the pooled output `y`: the first position equal to y gets `g`; writes all of `dx`. */
  readonly firstEqual: (x: number, y: number, g: number, dx: number, ...k: GeometryArgs) => void;
  /** Without `y`: the first strictly greater position gets `g`; writes all of `dx`. */
  readonly firstGreater: (x: number, g: number, dx: number, ...k: GeometryArgs) => void;
}

/** Finds the MaxPoolGrad module for a backend (a parameter so tests can take the fallback). */
export type MaxPoolGradModuleOf = (backend: BackendWasm) => MaxPoolGradExports | undefined;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const maxPoolGradWasmBytes = (): Uint8Array<ArrayBuffer> => wasmBytes(maxPoolGradWasmBase64);

/**
 * Instantiates the MaxPoolGrad module on `memory`, or returns undefined where it cannot run (no
 * WebAssembly SIMD, or a memory it cannot import, e.g. a shared one). Compiles synchronously:
 * the module is under two kilobytes, well under browsers' limit for that.
 */
export function instantiateMaxPoolGrad(memory: WebAssembly.Memory): MaxPoolGradExports | undefined {
  // Typed by the .wat source: firstEqual(i32 x 16), firstGreater(i32 x 15).
  return instantiateOn<MaxPoolGradExports>(maxPoolGradWasmBytes(), memory, [
    "firstEqual",
    "firstGreater",
  ]);
}

const cached = perBackend(instantiateMaxPoolGrad);

/**
 * The module instantiated on the backend's linear memory (tfjs-backend-wasm 4.22.0 exports it as
 * the Emscripten module's `asm.memory`), or undefined where it is not reachable or cannot run.
 */
export function maxPoolGradFor(backend: BackendWasm): MaxPoolGradExports | undefined {
  return cached(backend);
}

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/** `MaxPoolGrad` for wasm, finding the module with `moduleOf` (JS loops where it cannot run). */
export const maxPoolGradWith =
  (moduleOf: MaxPoolGradModuleOf): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const dy = need(inputs, "dy");
    const input = need(inputs, "input");
    const output = inputs.output;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    for (const t of [input, dy, ...(output === undefined ? [] : [output])]) {
      if (t.dtype !== "float32") {
        fail(
          "unsupported",
          `@wider/backend: wasm MaxPoolGrad supports float32 only, got ${t.dtype}.`,
          { path: "dtype", value: t.dtype, fix: "cast to float32" },
        );
      }
    }
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const geometry: Geometry = {
      batchSize: info.batchSize,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      inChannels: info.inChannels,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      filterHeight: info.effectiveFilterHeight,
      filterWidth: info.effectiveFilterWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    };
    const out = wasm.makeOutput(input.shape, "float32");
    const m = moduleOf(wasm);
    // Views and offsets are taken after the allocation: growing the heap detaches older views.
    if (m !== undefined) {
      const at = (t: TensorInfo) => wasm.typedArrayFromHeap(t).byteOffset;
      const k = geometryArgs(geometry);
      if (output === undefined) m.firstGreater(at(input), at(dy), at(out), ...k);
      else m.firstEqual(at(input), at(output), at(dy), at(out), ...k);
      return out;
    }
    const dx = wasm.typedArrayFromHeap(out) as Float32Array;
    const x = wasm.typedArrayFromHeap(input) as Float32Array;
    const g = wasm.typedArrayFromHeap(dy) as Float32Array;
    dx.fill(0);
    if (output === undefined) firstGreater(x, g, dx, geometry);
    else firstEqual(x, wasm.typedArrayFromHeap(output) as Float32Array, g, dx, geometry);
    return out;
  };

/** `MaxPoolGrad` for wasm: gradient routed to the first maximum of each window. */
export const maxPoolGrad: KernelFunc = maxPoolGradWith(maxPoolGradFor);

/** The module's geometry arguments, in its parameter order. */
const geometryArgs = (k: Geometry): GeometryArgs => [
  k.batchSize,
  k.inHeight,
  k.inWidth,
  k.inChannels,
  k.outHeight,
  k.outWidth,
  k.strideHeight,
  k.strideWidth,
  k.filterHeight,
  k.filterWidth,
  k.padTop,
  k.padLeft,
];

/** The pooling geometry the loops need. */
export interface Geometry {
  readonly batchSize: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/**
 * With the pooled output `y` at hand, the first maximum of a window is its first position
 * (row-major) equal to `y`: a cheaper, mostly predictable search. A window whose maximum is
 * -Infinity gets no gradient, as on cpu (whose strict '>' never fires there).
 */
export function firstEqual(
  x: Float32Array,
  y: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  k: Geometry,
): void {
  const rowStride = k.inWidth * k.inChannels;
  const imageStride = k.inHeight * rowStride;
  const c = k.inChannels;
  let o = 0;
  for (let b = 0; b < k.batchSize; ++b) {
    for (let yr = 0; yr < k.outHeight; ++yr) {
      const r0 = yr * k.strideHeight - k.padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(k.inHeight, r0 + k.filterHeight);
      for (let yc = 0; yc < k.outWidth; ++yc, o += c) {
        const c0 = yc * k.strideWidth - k.padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(k.inWidth, c0 + k.filterWidth);
        const corner = b * imageStride + rMin * rowStride + cMin * c;
        const rows = rMax - rMin;
        const cols = cMax - cMin;
        for (let d = 0; d < c; ++d) {
          const m = y[o + d] as number;
          if (m === Number.NEGATIVE_INFINITY) continue;
          let at = -1;
          for (let r = 0, q = corner + d; r < rows && at < 0; ++r, q += rowStride) {
            for (let j = 0, p = q; j < cols; ++j, p += c) {
              if (x[p] === m) {
                at = p;
                break;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (g[o + d] as number);
        }
      }
    }
  }
}

/** Without the pooled output: the first strictly greater value wins, as in the cpu backend. */
export function firstGreater(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  k: Geometry,
): void {
  const rowStride = k.inWidth * k.inChannels;
  const imageStride = k.inHeight * rowStride;
  const c = k.inChannels;
  let o = 0;
  for (let b = 0; b < k.batchSize; ++b) {
    for (let yr = 0; yr < k.outHeight; ++yr) {
      const r0 = yr * k.strideHeight - k.padTop;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(k.inHeight, r0 + k.filterHeight);
      for (let yc = 0; yc < k.outWidth; ++yc, o += c) {
        const c0 = yc * k.strideWidth - k.padLeft;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(k.inWidth, c0 + k.filterWidth);
        const corner = b * imageStride + rMin * rowStride + cMin * c;
        for (let d = 0; d < c; ++d) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = rMin, q = corner + d; r < rMax; ++r, q += rowStride) {
            for (let j = cMin, p = q; j < cMax; ++j, p += c) {
              const v = x[p] as number;
              if (v > best) {
                best = v;
                at = p;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (g[o + d] as number);
        }
      }
    }
  }
}

/** Kernel config: `MaxPoolGrad` on wasm. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: "MaxPoolGrad",
  backendName: "wasm",
  kernelFunc: maxPoolGrad,
};
