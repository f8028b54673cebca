/**
 * Iterating over batches given in any of the shapes users have: arrays, iterables, async
 * iterables or `tf.data.Dataset`s; a batch is `x`, `[x, y]` or `{ xs, ys }`.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";

/** The model input of a batch: one tensor, several (multi-input), or a name map. */
export type BatchInput = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

/** A batch: `x`, `[x, y, ...]` (the first element is the input, as in PyTorch), or `{ xs, ys? }`. */
export type Batch =
  | tf.Tensor
  | readonly [BatchInput, ...unknown[]]
  | { readonly xs: BatchInput; readonly ys?: unknown };

/** The part of `tf.data.Dataset` used here (no dependency on `@tensorflow/tfjs-data`). */
export interface DatasetLike<T> {
  iterator(): Promise<{ next(): Promise<IteratorResult<T>> }>;
}

/** Anything that yields batches. */
export type Batches = Iterable<Batch> | AsyncIterable<Batch> | DatasetLike<Batch>;

/** True for a `tf.data.Dataset`-like object (an `iterator()` method, no JS iteration protocol). */
export const isDatasetLike = (b: Batches): b is DatasetLike<Batch> =>
  typeof (b as Partial<DatasetLike<Batch>>).iterator === "function" &&
  !(Symbol.iterator in b) &&
  !(Symbol.asyncIterator in b);

/** Iterates over any {@link Batches}. */
export async function* iterateBatches(batches: Batches): AsyncGenerator<Batch> {
  if (isDatasetLike(batches)) {
    const it = await batches.iterator();
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  } else {
    yield* batches;
  }
}

const isTensor = (x: unknown): x is tf.Tensor =>
  typeof x === "object" && x !== null && "dataId" in x && "shape" in x && "dtype" in x;

/** The input part of a batch. Throws for a value that is none of the documented shapes. */
export const batchInput = (batch: Batch): BatchInput => {
  if (isTensor(batch)) return batch;
  if (Array.isArray(batch)) {
    if (batch.length === 0)
      fail("shape", "a batch array is empty; use x, [x, y] or { xs, ys }", {
        value: batch,
        fix: "x, [x, y] or { xs, ys }",
      });
    return batch[0] as BatchInput;
  }
  if (typeof batch === "object" && batch !== null && "xs" in batch) return batch.xs;
  return fail("shape", "a batch must be x, [x, y] or { xs, ys }", {
    fix: "x, [x, y] or { xs, ys }",
  });
};

/** Every tensor reachable in a batch (for disposing dataset elements). */
export const batchTensors = (batch: unknown): tf.Tensor[] => {
  if (isTensor(batch)) return [batch];
  if (Array.isArray(batch)) return batch.flatMap(batchTensors);
  if (typeof batch === "object" && batch !== null)
    return Object.values(batch).flatMap(batchTensors);
  return [];
};
