/**
 * `BatchMatMul` on the wasm backend, kept on XNNPACK. tfjs-backend-wasm 4.22.0 uses
 * XNNPACK's fully-connected operator only for untransposed operands with a batch of 1,
 * and otherwise a scalar loop; and it treats `b` as constant weights, packing it into a new
 * operator whenever `b` is a tensor it has not seen (about 10 ns per element, against
 * under 1 ns for a transpose). In training every `b` is new (updated weights, fresh
 * gradients), so this kernel:
 *
 * - transposes explicitly with XNNPACK's `Transpose`, never passing transposes down;
 * - computes `(Bᵀ Aᵀ)ᵀ` instead of `A B` when packing `Aᵀ` plus the transposes costs less
 *   than packing `B` (e.g. the first layer of an MLP: `x` is 128×784, `W` 784×512), unless
 *   `B` was seen before (fixed weights, e.g. inference: packed once, then cached);
 * - folds a batched `a` against an unbatched `b` into one matrix, and loops over the output
 *   matrices otherwise (any broadcast of the batch axes), instead of the scalar loop.
 *
 * Since the direct module (src/matMul.ts), this kernel runs only where the module cannot, and
 * for an untransposed `b` seen before (fixed weights, whose packed operator XNNPACK caches).
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  broadcast_util,
  type DataId,
  type KernelFunc,
  type TensorInfo,
} from "@tensorflow/tfjs-core";
import { matMulShape } from "./matMulShape.js";
import { callWasm, free, need, reshapeInfo, sliceInfo, transposeInfo } from "./wasmKernelCall.js";

/** Relative cost of packing one weight element, against transposing one element. */
export const PACK_COST = 10;

/** Data the original kernel has already packed as weights (its operator cache key). */
const packed = new WeakSet<DataId>();

/**
 * Data seen before as an untransposed `b`: a `b` used twice is likely fixed weights (e.g.
 * inference over many batches), where packing it once beats packing every input.
 */
const seenAsB = new WeakSet<DataId>();

/** How to compute one M×K by K×N product; `swapped` computes (Bᵀ Aᵀ)ᵀ. */
export interface MatMulPlan {
  readonly swapped: boolean;
}

/**
 * Chooses the swapped orientation only when its estimated cost (transposes at 1 per
 * element, packing at `PACK_COST` per element, nothing for weights already packed) is less
 * than half the direct one: the estimate ignores how the GEMM itself fares in each
 * orientation, so only clear wins are taken.
 */
export function planMatMul(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
  aPacked: boolean,
  bPacked: boolean,
): MatMulPlan {
  const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : bPacked ? 0 : PACK_COST * k * n);
  const swapped =
    (transposeB ? 0 : k * n) +
    (transposeA ? (aPacked ? 0 : PACK_COST * m * k) : m * k + PACK_COST * m * k) +
    m * n;
  return { swapped: 2 * swapped < direct };
}

/** [1, r, c] view of a matrix whose last two axes are r×c (leading axes of size 1). */
function asMatrix(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  return reshapeInfo(backend, x, [1, x.shape[rank - 2] as number, x.shape[rank - 1] as number]);
}

/** One product of [1,·,·] matrices through the original (XNNPACK) kernel, untransposed. */
function xnn(backend: BackendWasm, a: TensorInfo, b: TensorInfo): TensorInfo {
  const out = callWasm(
    backend,
    "BatchMatMul",
    { a, b },
    { transposeA: false, transposeB: false },
    true,
  );
  packed.add(b.dataId);
  return out;
}

/** op(A) op(B) for single matrices given as [1, ·, ·]; the caller owns the [1, M, N] result. */
function matMul2d(
  backend: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const [, ar, ac] = a.shape as [number, number, number];
  const [, br, bc] = b.shape as [number, number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  const reused = !transposeB && seenAsB.has(b.dataId);
  if (!transposeB) seenAsB.add(b.dataId);
  const plan = planMatMul(
    m,
    k,
    n,
    transposeA,
    transposeB,
    packed.has(a.dataId),
    packed.has(b.dataId),
  );
  if (reused || !plan.swapped) {
    const a2 = transposeA ? transposeInfo(backend, a, [0, 2, 1]) : a;
    const b2 = transposeB ? transposeInfo(backend, b, [0, 2, 1]) : b;
    const out = xnn(backend, a2, b2);
    if (a2 !== a) free(backend, a2);
    if (b2 !== b) free(backend, b2);
    return out;
  }
  const x = transposeB ? b : transposeInfo(backend, b, [0, 2, 1]); // op(B)ᵀ: [1, N, K]
  const y = transposeA ? a : transposeInfo(backend, a, [0, 2, 1]); // op(A)ᵀ: [1, K, M]
  const ct = xnn(backend, x, y); // [1, N, M]
  if (x !== b) free(backend, x);
  if (y !== a) free(backend, y);
  const out = transposeInfo(backend, ct, [0, 2, 1]);
  free(backend, ct);
  return out;
}

/** `BatchMatMul` for wasm on XNNPACK (see the module comment). */
export const xnnBatchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const a = need(inputs, "a");
  const b = need(inputs, "b");
  const transposeA = attrs?.transposeA === true;
  const transposeB = attrs?.transposeB === true;
  if (a.dtype !== "float32" || b.dtype !== "float32") {
    return callWasm(wasm, "BatchMatMul", inputs, attrs ?? {}, true);
  }
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = a.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const batchB = b.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const m = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const k = (transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) as number;
  const n = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  const outer = broadcast_util.assertAndGetBroadcastShape(
    a.shape.slice(0, -2),
    b.shape.slice(0, -2),
  );
  const outShape = [...outer, m, n];
  if (batchA === 1 && batchB === 1) {
    const a3 = asMatrix(wasm, a);
    const b3 = asMatrix(wasm, b);
    const out = matMul2d(wasm, a3, b3, transposeA, transposeB);
    free(wasm, a3, b3);
    const shaped = reshapeInfo(wasm, out, outShape);
    free(wasm, out);
    return shaped;
  }
  if (batchB === 1 && !transposeA) {
    // Every batch of `a` multiplies the same matrix: one product of stacked rows.
    const a3 = reshapeInfo(wasm, a, [1, batchA * m, k]);
    const b3 = asMatrix(wasm, b);
    const out = matMul2d(wasm, a3, b3, false, transposeB);
    free(wasm, a3, b3);
    const shaped = reshapeInfo(wasm, out, outShape);
    free(wasm, out);
    return shaped;
  }
  // Every output matrix with its pair of matrices, under any broadcast of the batch axes (the
  // original kernel returned a wrongly sized result for e.g. [1, 2] against [3, 1]).
  const { aIndex, bIndex } = matMulShape(a.shape, b.shape, transposeA, transposeB);
  const batch = aIndex.length;
  const a3 = reshapeInfo(wasm, a, [batchA, a.shape[ra - 2] as number, a.shape[ra - 1] as number]);
  const b3 = reshapeInfo(wasm, b, [batchB, b.shape[rb - 2] as number, b.shape[rb - 1] as number]);
  const pieces: TensorInfo[] = [];
  for (let i = 0; i < batch; i++) {
    const ai = sliceInfo(
      wasm,
      a3,
      [aIndex[i] as number, 0, 0],
      [1, a3.shape[1] as number, a3.shape[2] as number],
    );
    const bi = sliceInfo(
      wasm,
      b3,
      [bIndex[i] as number, 0, 0],
      [1, b3.shape[1] as number, b3.shape[2] as number],
    );
    pieces.push(matMul2d(wasm, ai, bi, transposeA, transposeB));
    free(wasm, ai, bi);
  }
  free(wasm, a3, b3);
  // Concat takes its inputs as an array (the engine passes the tensor list as is).
  const stacked = callWasm(wasm, "Concat", pieces as unknown as Record<string, TensorInfo>, {
    axis: 0,
  });
  free(wasm, ...pieces);
  const shaped = reshapeInfo(wasm, stacked, outShape);
  free(wasm, stacked);
  return shaped;
};
