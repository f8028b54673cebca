/**
 * Exponential moving average of the weights, with optional timm-style warmup.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import {
  type Averager,
  type AveragerOptions,
  emaUpdateKernelName,
  makeAverager,
} from "./Averager.js";
import { fail } from "./errors.js";

/** timm-style warmup of the decay: `d_t = min(decay, 1 - (1 + t / gamma)^(-power))`. */
export interface EmaWarmup {
  /** `gamma > 0` (timm `warmup_gamma`, default 1). */
  readonly gamma?: number;
  /** `power > 0` (timm `warmup_power`, default 2/3; timm suggests 3/4 for short runs). */
  readonly power?: number;
}

/** Options of {@link ema}. */
export interface EmaOptions extends AveragerOptions {
  /** The decay `d` in [0, 1] of `mean <- d * mean + (1 - d) * w` (PyTorch examples use 0.999). */
  readonly decay: number;
  /** Warm the decay up (`true` for the timm defaults). Without it, `d_t = decay`. */
  readonly warmup?: EmaWarmup | boolean;
}

/**
 * The decay used at an update, as a pure function of `t = state.n` (the number of weight sets
 * already averaged, so the second call to `update` has `t = 1`; the first call copies).
 *
 * @example
 * emaDecay({ decay: 0.999, warmup: { gamma: 1, power: 1 } })(1) // 0.5: min(0.999, 1 - 1/2)
 */
export const emaDecay = (options: EmaOptions): ((t: number) => number) => {
  const { decay, warmup } = options;
  if (typeof decay !== "number" || !(decay >= 0 && decay <= 1)) {
    fail("config", `ema: decay is ${decay}; use a number in [0, 1], e.g. 0.999`, {
      path: "decay",
      value: decay,
      fix: "a number in [0, 1], e.g. 0.999",
    });
  }
  if (warmup === undefined || warmup === false) return () => decay;
  const w = warmup === true ? {} : warmup;
  const gamma = w.gamma ?? 1;
  const power = w.power ?? 2 / 3;
  if (!(gamma > 0) || !Number.isFinite(gamma)) {
    fail("config", `ema: warmup.gamma is ${gamma}; use a finite number > 0, e.g. 1`, {
      path: "warmup.gamma",
      value: gamma,
      fix: "a finite number > 0, e.g. 1",
    });
  }
  if (!(power > 0) || !Number.isFinite(power)) {
    fail("config", `ema: warmup.power is ${power}; use a finite number > 0, e.g. 2/3`, {
      path: "warmup.power",
      value: power,
      fix: "a finite number > 0, e.g. 2/3",
    });
  }
  return (t) => Math.min(decay, 1 - (1 + t / gamma) ** -power);
};

/**
 * Exponential moving average `mean <- d_t * mean + (1 - d_t) * w` (PyTorch EMA `avg_fn`);
 * the first update copies. With `warmup: { gamma: 1, power: 1 }` and `decay: 1` it equals
 * {@link swa} (then `d_t = t / (t + 1)`).
 *
 * @example
 * const avg = ema({ decay: 0.999, warmup: true });
 */
export const ema = (options: EmaOptions): Averager => {
  const d = emaDecay(options);
  return makeAverager(
    (mean, w, n) => {
      const dt = d(n);
      return tf.add(tf.mul(mean, dt), tf.mul(w, 1 - dt));
    },
    options,
    {
      // Same float32 roundings as the tensor rule (and PyTorch): d and 1 - d as float32, mul, mul, add.
      cpu: (a, b, out, n) => {
        const f = Math.fround;
        const dt = f(d(n));
        const ct = f(1 - d(n));
        for (let i = 0; i < a.length; i++) out[i] = f(f(dt * a[i]!) + f(ct * b[i]!));
      },
      kernel: { name: emaUpdateKernelName, attrs: (n) => ({ decay: d(n) }) },
    },
  );
};
