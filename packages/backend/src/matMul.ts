/**
 * A direct `BatchMatMul` on the wasm backend: op(A) op(B) by a small SIMD module
 * (wasm/matMul.wat) on the backend's own memory that reads both operands where they lie: no
 * XNNPACK operator, so nothing is packed (XNNPACK packs `b` into a new operator for every tensor
 * it has not seen, ~10 ns per element, which in training is every weight and every gradient),
 * and no transposes except `b` when both operands are transposed. `A B` and `Aᵀ B` run the 4 x 8
 * register-blocked `gemm` (A read through its two strides), `A Bᵀ` the 2 x 4 dot-product kernel
 * `dotNT`. Batches: a batched `a` against one `b` is folded into one product when its rows are
 * consecutive, otherwise one call per output matrix, with any broadcast of the batch axes.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { matMulShape } from "./matMulShape.js";
import { matMulWasmBase64 } from "./matMulWasm.js";
import { free, need, transposeInfo } from "./wasmKernelCall.js";
import { instantiateOn, perBackend, wasmBytes } from "./wasmModule.js";
import { xnnBatchMatMul } from "./xnnMatMul.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The functions of the matmul module; pointers and strides are in bytes. */
export interface MatMulExports {
  /**
   * `c` [m, n] = A B with A(i, l) at `a + i * aRow + l * aCol` and B(l, j) at `b + l * bRow +
   * 4 j` (see wasm/matMul.wat); `spare` n floats of scratch; blocks of `kc` steps of l and `mc`
   * rows (0: all of k; mc rounded up to a multiple of 4).
   */
  readonly gemm: (
    a: number,
    b: number,
    c: number,
    spare: number,
    m: number,
    n: number,
    k: number,
    aRow: number,
    aCol: number,
    bRow: number,
    kc: number,
    mc: number,
  ) => void;
  /**
   * `c` [m, n] = A Bᵀ for A [m, k] and B [n, k] with rows `aRow` and `bRow` bytes apart (both
   * contiguous along k); `spare` 8 floats of scratch; groups of `mc` rows of A.
   */
  readonly dotNT: (
    a: number,
    b: number,
    c: number,
    spare: number,
    m: number,
    n: number,
    k: number,
    aRow: number,
    bRow: number,
    mc: number,
  ) => void;
}

/** Finds the module for a backend (a parameter so tests can take the XNNPACK path). */
export type MatMulModuleOf = (backend: BackendWasm) => MatMulExports | undefined;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The module's bytes (decoded from the generated base64). */
export const matMulWasmBytes = (): Uint8Array<ArrayBuffer> => wasmBytes(matMulWasmBase64);

/**
 * Instantiates the module on `memory`, or returns undefined where it cannot run (no WebAssembly
 * SIMD, or a memory it cannot import, e.g. a shared one).
 */
export function instantiateMatMul(memory: WebAssembly.Memory): MatMulExports | undefined {
  // Typed by the .wat source: gemm(i32 x 12), dotNT(i32 x 10).
  return instantiateOn<MatMulExports>(matMulWasmBytes(), memory, ["gemm", "dotNT"]);
}

const cached = perBackend(instantiateMatMul);

/**
 * The module instantiated on the backend's linear memory (tfjs-backend-wasm 4.22.0 exports it as
 * the Emscripten module's `asm.memory`), or undefined where it is not reachable or cannot run.
 */
export function matMulFor(backend: BackendWasm): MatMulExports | undefined {
  return cached(backend);
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * The cache budget of one block of A (mc rows by kc steps), in floats: `gemm` reads it once per
 * column block of 8, so it should stay in L2.
 */
export const blockFloats = 16384;

/** The largest block of steps of l (`kc`); a kc x 8 panel of B (8 KB) stays in L1. */
export const maxStepBlock = 256;

/** `gemm`'s blocks for an m x k A: kc = min(k, maxStepBlock), mc rows (a multiple of 4) filling `blockFloats`. */
export function gemmBlocks(k: number): { kc: number; mc: number } {
  const kc = Math.max(1, Math.min(k, maxStepBlock));
  return { kc, mc: Math.max(4, 4 * Math.floor(blockFloats / kc / 4)) };
}

/**
 * The shortest k for which A Bᵀ runs the dot-product form `dotNT`; below it, B is transposed
 * (XNNPACK) and `gemm` runs. Measured (bench/matMul.ts): at k = 256 (the MLP's input gradient
 * [64, 256] x [512, 256]ᵀ) the dot form was 1.1-1.4x faster, at k = 128 (the CNN's, [64, 128] x
 * [1600, 128]ᵀ) 1.3x slower (each dot product ends with a reduction across lanes), at k = 10
 * 2x slower; the threshold lies between.
 */
export const dotMinK = 192;

/** `dotNT`'s group of rows of A (a multiple of 2) filling `blockFloats`. */
export const dotRows = (k: number): number =>
  Math.max(2, 2 * Math.floor(blockFloats / Math.max(1, k) / 2));

export { type MatMulShape, matMulShape } from "./matMulShape.js";

// -------------------------------------------------------------------------------------
// kernels
// -------------------------------------------------------------------------------------

/**
 * op(a) op(b) (float32, any batch axes that broadcast) by the module `mod` on the backend's
 * memory. The caller owns the result.
 */
export function directMatMul(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  mod: MatMulExports,
): TensorInfo {
  const shape = matMulShape(a.shape, b.shape, transposeA, transposeB);
  const { m, k, n, aIndex, bIndex } = shape;
  const count = aIndex.length;
  const out = backend.makeOutput(shape.outShape, "float32");
  if (count * m * n === 0) return out;
  // B is transposed first (XNNPACK) so that its rows are contiguous along n where both are
  // transposed, and where k is too short for the dot-product form.
  const rb = b.shape.length;
  const bt =
    transposeB && (transposeA || k < dotMinK)
      ? transposeInfo(
          backend,
          b,
          b.shape.map((_, i) => (i < rb - 2 ? i : i === rb - 2 ? rb - 1 : rb - 2)),
        )
      : undefined;
  const nt = transposeB && bt === undefined; // the dot-product form A Bᵀ
  const spare = backend.makeOutput([Math.max(8, n)], "float32");
  try {
    // Offsets are taken after the last allocation: growing the heap detaches older views.
    const at = (t: TensorInfo) => backend.typedArrayFromHeap(t).byteOffset;
    const pa = at(a);
    const pb = at(bt ?? b);
    const pc = at(out);
    const ps = at(spare);
    const aMatrix = 4 * m * k;
    const bMatrix = 4 * k * n;
    const cMatrix = 4 * m * n;
    const aRow = transposeA ? 4 : 4 * k;
    const aCol = transposeA ? 4 * m : 4;
    // one b for every output, and a's matrices consecutive in order: one product of stacked rows
    const folded = !transposeA && count > 1 && bIndex.every((i) => i === 0) && isIota(aIndex);
    const runs = folded ? 1 : count;
    const rows = folded ? count * m : m;
    const blocks = gemmBlocks(k);
    const mcDot = dotRows(k);
    for (let t = 0; t < runs; t++) {
      const pat = pa + (aIndex[t] as number) * aMatrix;
      const pbt = pb + (bIndex[t] as number) * bMatrix;
      const pct = pc + t * cMatrix;
      if (nt) mod.dotNT(pat, pbt, pct, ps, rows, n, k, 4 * k, 4 * k, mcDot);
      else mod.gemm(pat, pbt, pct, ps, rows, n, k, aRow, aCol, 4 * n, blocks.kc, blocks.mc);
    }
  } finally {
    free(backend, spare, ...(bt === undefined ? [] : [bt]));
  }
  return out;
}

/** Whether xs is 0, 1, 2, ... */
function isIota(xs: Int32Array): boolean {
  for (let i = 0; i < xs.length; i++) if (xs[i] !== i) return false;
  return true;
}

/**
 * `BatchMatMul` on wasm: the direct module for every float32 call (found by `moduleOf`); the
 * XNNPACK kernel (src/xnnMatMul.ts) where the module cannot run and for other dtypes. The choice
 * depends on the operands' dtypes alone, never on what ran before, so the same product always
 * gives the same bits (a run resumed from a checkpoint trains exactly as one that was not).
 */
export function batchMatMulWith(moduleOf: MatMulModuleOf): KernelFunc {
  return (args) => {
    const backend = args.backend as BackendWasm;
    const a = need(args.inputs, "a");
    const b = need(args.inputs, "b");
    const transposeA = args.attrs?.transposeA === true;
    const transposeB = args.attrs?.transposeB === true;
    const mod = a.dtype === "float32" && b.dtype === "float32" ? moduleOf(backend) : undefined;
    if (mod === undefined) return xnnBatchMatMul(args);
    return directMatMul(backend, a, b, transposeA, transposeB, mod);
  };
}

/** `BatchMatMul` on wasm (see `batchMatMulWith`), with the module on the backend's memory. */
export const batchMatMul: KernelFunc = batchMatMulWith(matMulFor);
