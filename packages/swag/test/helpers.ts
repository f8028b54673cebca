import * as tf from "@tensorflow/tfjs";
import type { Weights } from "@wider/weights";
import { expect } from "vitest";

/** A fixture tensor: shape plus row-major values. */
export interface FixtureTensor {
  readonly shape: number[];
  readonly values: number[];
}

export type FixtureWeights = Readonly<Record<string, FixtureTensor>>;

export const toWeights = (w: FixtureWeights): Weights =>
  Object.fromEntries(
    Object.entries(w).map(([k, t]) => [k, tf.tensor(t.values, t.shape, "float32")]),
  );

/**
 * The fixture check, stated once: every entry satisfies |ours - ref| <= rtol * max(|ref|, floor).
 * Returns the worst |ours - ref| / max(|ref|, floor) seen, so tests can report it.
 */
export const expectClose = (
  ours: ArrayLike<number>,
  ref: ArrayLike<number>,
  rtol: number,
  floor: number | ArrayLike<number>,
  what: string,
): number => {
  expect(ours.length, `${what}: length`).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const f = typeof floor === "number" ? floor : floor[i]!;
    const e = Math.abs(ours[i]! - r) / Math.max(Math.abs(r), f);
    worst = Math.max(worst, e);
    if (!(e <= rtol)) {
      expect.fail(
        `${what}[${i}]: ours ${ours[i]} vs reference ${r} (relative error ${e.toExponential(2)} > ${rtol})`,
      );
    }
  }
  return worst;
};

/** Checks every key of `ours` against the fixture weights; returns the worst error. */
export const expectWeightsClose = (
  ours: Weights,
  ref: FixtureWeights,
  rtol: number,
  floor: number | FixtureWeights,
  what: string,
): number => {
  expect(Object.keys(ours).sort()).toEqual(Object.keys(ref).sort());
  let worst = 0;
  for (const [k, t] of Object.entries(ref)) {
    expect(ours[k]!.shape).toEqual(t.shape);
    worst = Math.max(
      worst,
      expectClose(
        ours[k]!.dataSync(),
        t.values,
        rtol,
        typeof floor === "number" ? floor : floor[k]!.values,
        `${what} ${k}`,
      ),
    );
  }
  return worst;
};
