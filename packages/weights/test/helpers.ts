import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";
import { canonicalJson } from "../src/index.js";

/** Runs `f`, then disposes what it returned via `dispose`, and checks numTensors is unchanged. */
export const expectNoLeak = <A>(f: () => A, dispose: (a: A) => void): A => {
  const before = tf.memory().numTensors;
  const a = f();
  dispose(a);
  expect(tf.memory().numTensors).toBe(before);
  return a;
};

/** A small weight set with deterministic values. */
export const sample = (offset = 0): Record<string, tf.Tensor> => ({
  "d1/kernel": tf.tensor2d([1 + offset, 2, 3, 4, 5, 6], [2, 3]),
  "d1/bias": tf.tensor1d([0.5, -0.5 - offset, 2]),
  "c/kernel": tf.tensor4d(
    Array.from({ length: 8 }, (_, i) => i * 0.25 - offset),
    [1, 2, 2, 2],
  ),
});

/**
 * `m` with `manifestSha256` recomputed: sha256 of the canonical JSON of the rest. Lets a test
 * forge a consistent-looking manifest, to reach the checks behind the digest.
 */
export const resign = (m: Record<string, unknown>): Record<string, unknown> => {
  const { manifestSha256: _, ...rest } = m;
  return {
    ...rest,
    manifestSha256: createHash("sha256").update(canonicalJson(rest)).digest("hex"),
  };
};
