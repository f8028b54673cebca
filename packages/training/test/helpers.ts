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

/** A small classifier with explicit layer names and seeded initializers: same weights every build. */
export const buildClassifier = (
  opts: { batchNorm?: boolean; inputs?: number; classes?: number } = {},
): tf.Sequential => {
  const inputs = opts.inputs ?? 6;
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [inputs],
        activation: "relu",
        name: "hidden",
        kernelInitializer: init(1),
      }),
      ...(opts.batchNorm === false ? [] : [tf.layers.batchNormalization({ name: "bn" })]),
      tf.layers.dense({ units: opts.classes ?? 3, name: "logits", kernelInitializer: init(2) }),
    ],
  });
};

/** A deterministic batch of step `step`: inputs from a seeded normal, labels 0..classes-1. */
export const batchOf = (step: number, size = 8, inputs = 6, classes = 3) => {
  const x = tf.randomNormal([size, inputs], 0, 1, "float32", 1000 + (step % 5));
  const y = tf.tensor1d(
    Array.from({ length: size }, (_, i) => (i * 7 + (step % 5)) % classes),
    "int32",
  );
  return { x, y };
};
