/** The sizes and batch pairing of a `BatchMatMul` (shared by the direct and XNNPACK kernels). */
import { broadcast_util } from "@tensorflow/tfjs-core";

/** The sizes of one product op(A) [m, k] times op(B) [k, n], and its batches. */
export interface MatMulShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** The output's shape: the broadcast batch axes, then m, n. */
  readonly outShape: number[];
  /** For each output matrix, the index of its `a` and `b` matrices among their batches. */
  readonly aIndex: Int32Array;
  readonly bIndex: Int32Array;
}

/**
 * The sizes of op(a) op(b) and which matrices each output matrix multiplies (batch axes
 * broadcast as tfjs does); throws tfjs's own error when they do not broadcast.
 */
export function matMulShape(
  aShape: ReadonlyArray<number>,
  bShape: ReadonlyArray<number>,
  transposeA: boolean,
  transposeB: boolean,
): MatMulShape {
  const ra = aShape.length;
  const rb = bShape.length;
  const m = (transposeA ? aShape[ra - 1] : aShape[ra - 2]) as number;
  const k = (transposeA ? aShape[ra - 2] : aShape[ra - 1]) as number;
  const n = (transposeB ? bShape[rb - 2] : bShape[rb - 1]) as number;
  const oa = aShape.slice(0, -2);
  const ob = bShape.slice(0, -2);
  const outer = broadcast_util.assertAndGetBroadcastShape(oa, ob);
  const count = outer.reduce((p, q) => p * q, 1);
  const aIndex = new Int32Array(count);
  const bIndex = new Int32Array(count);
  for (let t = 0; t < count; t++) {
    // t's multi-index in `outer`, read back into a's and b's (size-1 axes stay at 0)
    let rest = t;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = outer.length - 1; d >= 0; d--) {
      const size = outer[d] as number;
      const idx = rest % size;
      rest = (rest - idx) / size;
      const da = d - (outer.length - oa.length);
      const db = d - (outer.length - ob.length);
      if (da >= 0) {
        const s = oa[da] as number;
        ia += (s === 1 ? 0 : idx) * sa;
        sa *= s;
      }
      if (db >= 0) {
        const s = ob[db] as number;
        ib += (s === 1 ? 0 : idx) * sb;
        sb *= s;
      }
    }
    aIndex[t] = ia;
    bIndex[t] = ib;
  }
  return { m, k, n, outShape: [...outer, m, n], aIndex, bIndex };
}
