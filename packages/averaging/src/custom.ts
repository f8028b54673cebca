/**
 * Averagers from a user-supplied rule, like PyTorch's `AveragedModel(avg_fn=...)`.
 *
 * @module
 */
import { type Averager, type AveragerOptions, type AvgFn, fromRule } from "./Averager.js";

/**
 * An averager applying `avgFn(mean, w, n, key)` per tensor after the first update (which copies),
 * exactly as PyTorch's `avg_fn(averaged_param, model_param, num_averaged)`. `avgFn` runs inside
 * `tf.tidy` and receives float32 tensors; it must not dispose them.
 *
 * @example
 * const avg = custom((mean, w) => tf.add(tf.mul(mean, 0.9), tf.mul(w, 0.1)));
 */
export const custom = (avgFn: AvgFn, options: AveragerOptions = {}): Averager =>
  fromRule(avgFn, options);
