/**
 * Stochastic Weight Averaging: the equal-weight running mean of the collected weights.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type Averager,
  type AveragerOptions,
  makeAverager,
  swaUpdateKernelName,
} from "./Averager.js";

/**
 * The SWA running mean `mean + (w - mean) / (n + 1)` (PyTorch `AveragedModel` default avg_fn);
 * the first update copies.
 *
 * @example
 * const avg = swa();
 * let s = avg.init();
 * s = avg.update(s, w1); s = avg.update(s, w2); // s.mean = (w1 + w2) / 2, s.n = 2
 */
export const swa = (options: AveragerOptions = {}): Averager =>
  makeAverager((mean, w, n) => tf.add(mean, tf.div(tf.sub(w, mean), n + 1)), options, {
    // Same float32 roundings as the tensor rule (and PyTorch): sub, div, add.
    cpu: (a, b, out, n) => {
      const f = Math.fround;
      const d = f(n + 1); // the tensor rule's float32 scalar (exact below 2^24 updates)
      for (let i = 0; i < a.length; i++) {
        const ai = a[i]!;
        out[i] = f(ai + f(f(b[i]! - ai) / d));
      }
    },
    kernel: { name: swaUpdateKernelName, attrs: (n) => ({ count: n + 1 }) },
  });
