/**
 * Batch plans: which example indices go in which batch, for one epoch. Pure and seeded:
 * the same options give the same plan on every machine.
 */

import { misuse } from "./errors.js";
import { shuffledIndices } from "./random.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of `planBatches`. */
export interface PlanBatchesOptions {
  /** Number of examples (indices 0..count-1). */
  readonly count: number;
  /** Examples per batch (the last batch may be smaller unless `dropRemainder`). */
  readonly batchSize: number;
  /** Seed of the shuffle; use a different seed per epoch, e.g. `baseSeed + epoch`. */
  readonly seed: number;
  /** Shuffle the order (default true); false keeps 0..count-1. */
  readonly shuffle?: boolean | undefined;
  /** Drop a last batch smaller than `batchSize` (default false). */
  readonly dropRemainder?: boolean | undefined;
}

/** One epoch: the indices of each batch, in order. */
export type BatchPlan = readonly Int32Array[];

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Plans one epoch of batches: a seeded Fisher–Yates shuffle (mulberry32) of 0..count-1,
 * cut into consecutive batches. Throws a `WiderFailure` (`DataError`, kind `config`) for a count or batch size that is not
 * an integer (count >= 0, batchSize >= 1): validate user input at your edge.
 * @example
 * planBatches({ count: 5, batchSize: 2, seed: 0, shuffle: false });
 * // [Int32Array [0, 1], Int32Array [2, 3], Int32Array [4]]
 */
export const planBatches = (options: PlanBatchesOptions): BatchPlan => {
  const { count, batchSize, seed, shuffle = true, dropRemainder = false } = options;
  if (!Number.isInteger(count) || count < 0) {
    misuse("config", `planBatches: count must be a non-negative integer, got ${count}`, {
      path: "count",
      value: count,
    });
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    misuse("config", `planBatches: batchSize must be a positive integer, got ${batchSize}`, {
      path: "batchSize",
      value: batchSize,
    });
  }
  if (!Number.isInteger(seed)) {
    misuse("config", `planBatches: seed must be an integer, got ${seed}`, {
      path: "seed",
      value: seed,
    });
  }
  let order: Int32Array;
  if (shuffle) {
    order = shuffledIndices(count, seed);
  } else {
    order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(start + batchSize, count);
    if (dropRemainder && end - start < batchSize) break;
    batches.push(order.slice(start, end));
  }
  return batches;
};
