import * as tf from "@tensorflow/tfjs";
import type { Weights } from "@wider/weights";
import { expect } from "vitest";

/** A fixture tensor: shape plus row-major values. */
export interface FixtureTensor {
  readonly shape: number[];
  readonly values: number[];
}

export const toWeights = (w: Readonly<Record<string, FixtureTensor>>): Weights =>
  Object.fromEntries(
    Object.entries(w).map(([k, t]) => [k, tf.tensor(t.values, t.shape, "float32")]),
  );

/**
 * The fixture check, stated once: every entry satisfies |ours - ref| <= rtol * max(|ref|, floor).
 * Returns the worst |ours - ref| / max(|ref|, floor) seen.
 */
export const expectClose = (
  ours: ArrayLike<number>,
  ref: ArrayLike<number>,
  rtol: number,
  floor: number,
  what: string,
): number => {
  expect(ours.length, `${what}: length`).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const e = Math.abs(ours[i]! - r) / Math.max(Math.abs(r), floor);
    worst = Math.max(worst, e);
    if (!(e <= rtol)) {
      expect.fail(
        `${what}[${i}]: ours ${ours[i]} vs reference ${r} (relative error ${e.toExponential(2)} > ${rtol})`,
      );
    }
  }
  return worst;
};

/** Bit-for-bit equality of two named tensor lists (same names, shapes, float32 bits). */
export const expectBitIdentical = (
  a: ReadonlyArray<[string, tf.Tensor]>,
  b: ReadonlyArray<[string, tf.Tensor]>,
): void => {
  expect(a.map(([k]) => k)).toEqual(b.map(([k]) => k));
  a.forEach(([k, t], i) => {
    const u = b[i]![1];
    expect(t.shape, k).toEqual(u.shape);
    const x = new Uint32Array(Float32Array.from(t.dataSync()).buffer);
    const y = new Uint32Array(Float32Array.from(u.dataSync()).buffer);
    expect(Buffer.from(x.buffer).equals(Buffer.from(y.buffer)), `${k} differs`).toBe(true);
  });
};

export { batchOf, buildClassifier } from "./model.js";
