/**
 * One flat `Float32Array` view of a weight set, for optimizers, PCA or files.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { raise } from "@wider/errors";
import { numel } from "./arithmetic.js";
import { weightsError } from "./errors.js";
import { setOwn } from "./ownRecord.js";
import type { Weights } from "./types.js";

/** The keys of `a` in the order {@link flatten} uses: sorted by code unit (`Array.prototype.sort`). */
export const sortedKeys = (a: Weights): string[] => Object.keys(a).sort();

/**
 * Concatenates every tensor (row-major, keys in {@link sortedKeys} order) into a new
 * `Float32Array` (int32 tensors are converted). Reads the data synchronously.
 *
 * @example
 * const v = flatten(w); // v.length === numel(w)
 */
export const flatten = (a: Weights): Float32Array => {
  const out = new Float32Array(numel(a));
  let off = 0;
  for (const k of sortedKeys(a)) {
    const t = a[k]!;
    out.set(t.dataSync() as ArrayLike<number>, off);
    off += t.size;
  }
  return out;
};

/**
 * The inverse of {@link flatten}: tensors with the keys, shapes and dtypes of `like` filled from
 * `data`; the caller owns them. Throws when `data.length !== numel(like)`.
 */
export const unflatten = (like: Weights, data: Float32Array): Weights => {
  const total = numel(like);
  if (data.length !== total) {
    raise(
      weightsError(
        "shape",
        `unflatten: data has ${data.length} entries but the weights need ${total}`,
        { path: "data", value: data.length, fix: `a Float32Array of length ${total}` },
      ),
    );
  }
  const out: Record<string, tf.Tensor> = {};
  const offsets = new Map<string, number>();
  let off = 0;
  for (const k of sortedKeys(like)) {
    offsets.set(k, off);
    off += like[k]!.size;
  }
  // Build in `like`'s insertion order so the result lines up with the model order.
  for (const [k, t] of Object.entries(like)) {
    const o = offsets.get(k)!;
    const part = data.subarray(o, o + t.size);
    setOwn(
      out,
      k,
      t.dtype === "int32"
        ? tf.tensor(Int32Array.from(part), t.shape, "int32")
        : tf.tensor(part.slice(), t.shape, "float32"),
    );
  }
  return out;
};
