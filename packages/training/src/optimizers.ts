/**
 * Optimizers as optax-style transformations over {@link Weights}, computing exactly what
 * `torch.optim.SGD`, `torch.optim.Adam` and `torch.optim.AdamW` (PyTorch 1.13) compute.
 *
 * An optimizer is a pair of functions: `init(weights) -> state` and
 * `update(grads, state, weights, lr) -> { updates, state }`; `applyUpdates(weights, updates)` adds
 * the updates. The state is plain data, `{ count, slots }` (`count` = steps taken, `slots` = named
 * weight sets such as momentum buffers), so `@wider/weights` `saveBundle` can store it.
 *
 * Memory rule (the one `@wider/averaging` uses): `update` CONSUMES `state`: it disposes the old
 * slot tensors it replaced and returns a new state and new `updates` that the caller owns. It
 * never disposes `grads` or `weights`. Free the last state with {@link disposeOptState}. If
 * `update` throws (mismatched names or shapes, a bad rate), `state` is left intact.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Weights } from "@wider/weights";
import { fail } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An optimizer's state: steps taken so far and named weight sets (e.g. `momentum`, `mu`, `nu`). */
export interface OptState {
  readonly count: number;
  readonly slots: Readonly<Record<string, Weights>>;
}

/** What `update` returns: the updates to add to the weights, and the new state (both caller-owned). */
export interface OptUpdate {
  readonly updates: Weights;
  readonly state: OptState;
}

/** An optimizer: `init(weights)` once, then `update(grads, state, weights, lr)` per step. */
export interface Optimizer {
  /** A short description such as `sgd(momentum=0.9, weightDecay=0.0005)`, for logs and checkpoints. */
  readonly name: string;
  /** Zero slots shaped like `weights` (float32) and `count = 0`; the caller owns them. */
  readonly init: (weights: Weights) => OptState;
  /**
   * The step's updates for every key of `grads` (each must be in `weights` and the state, with the
   * same shape) at rate `lr`; consumes `state`. Keys absent from `grads` keep their slots and get
   * no update (PyTorch skips parameters whose `grad` is None).
   */
  readonly update: (grads: Weights, state: OptState, weights: Weights, lr: number) => OptUpdate;
}

/** Options of {@link sgd}, as `torch.optim.SGD`. */
export interface SgdOptions {
  /** Momentum factor, `>= 0` (default 0: plain SGD, no slots). */
  readonly momentum?: number;
  /** Dampening of the gradient in the momentum buffer, in [0, 1] (default 0). */
  readonly dampening?: number;
  /** Nesterov momentum (default false); needs `momentum > 0` and `dampening = 0`. */
  readonly nesterov?: boolean;
  /** L2 weight decay added to the gradient, `d = g + weightDecay * w`, `>= 0` (default 0). */
  readonly weightDecay?: number;
}

/** Options of {@link adam} and {@link adamw}, as `torch.optim.Adam` / `AdamW`. */
export interface AdamOptions {
  /** `[beta1, beta2]`, each in [0, 1) (default `[0.9, 0.999]`). */
  readonly betas?: readonly [number, number];
  /** Added to the bias-corrected root of the second moment, `>= 0` (default 1e-8). */
  readonly eps?: number;
  /** `>= 0`; Adam: added to the gradient (L2); AdamW: decoupled, `w *= 1 - lr * weightDecay` (default 0 for Adam, 0.01 for AdamW). */
  readonly weightDecay?: number;
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkRange = (where: string, field: string, v: number, lo: number, hi: number): void => {
  if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi) {
    const fix = `pass a number in [${lo}, ${hi === Infinity ? "Infinity)" : `${hi}]`}`;
    fail("config", `${where}: ${field} was ${String(v)}; ${fix}`, { path: field, value: v, fix });
  }
};

const checkLr = (where: string, lr: number): void => {
  if (typeof lr !== "number" || !Number.isFinite(lr) || lr < 0) {
    fail("config", `${where}.update: lr was ${String(lr)}; pass a finite rate >= 0`, {
      path: "lr",
      value: lr,
      fix: "pass a finite rate >= 0",
    });
  }
};

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Checks that every key of `grads` is in `weights` and in each slot, with one shape. */
const checkKeys = (where: string, grads: Weights, state: OptState, weights: Weights): void => {
  for (const [k, g] of Object.entries(grads)) {
    const w = weights[k];
    if (w === undefined) {
      fail(
        "shape",
        `${where}.update: the gradient "${k}" has no weight of that name; pass the weights the gradients were taken of`,
      );
    } else if (!sameShape(g.shape, w.shape)) {
      fail(
        "shape",
        `${where}.update: the gradient "${k}" has shape [${g.shape}] but the weight has [${w.shape}]`,
      );
    }
    for (const [slot, s] of Object.entries(state.slots)) {
      const t = s[k];
      if (t === undefined) {
        fail(
          "shape",
          `${where}.update: the state's "${slot}" has no "${k}"; init the state from the same model's weights (names must match, e.g. give layers explicit names)`,
        );
      } else if (!sameShape(t.shape, g.shape)) {
        fail(
          "shape",
          `${where}.update: the state's "${slot}/${k}" has shape [${t.shape}] but the gradient has [${g.shape}]`,
        );
      }
    }
  }
};

const zeros = (weights: Weights): Weights =>
  Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, tf.zeros(w.shape, "float32")]));

/**
 * Runs `perKey` for each gradient inside one `tidy`, then builds the new state: each slot keeps
 * its old tensors for keys without a gradient, the replaced ones are disposed.
 */
const stepAll = (
  grads: Weights,
  state: OptState,
  perKey: (key: string, g: tf.Tensor) => { u: tf.Tensor; slots: Record<string, tf.Tensor> },
): OptUpdate => {
  const results = tf.tidy(() => {
    const out: Record<string, { u: tf.Tensor; slots: Record<string, tf.Tensor> }> = {};
    for (const [k, g] of Object.entries(grads)) out[k] = perKey(k, tf.cast(g, "float32"));
    return out;
  });
  const updates: Record<string, tf.Tensor> = {};
  const slots: Record<string, Record<string, tf.Tensor>> = {};
  for (const name of Object.keys(state.slots)) slots[name] = { ...state.slots[name] };
  const replaced: tf.Tensor[] = [];
  for (const [k, r] of Object.entries(results)) {
    updates[k] = r.u;
    for (const [name, t] of Object.entries(r.slots)) {
      const slot = slots[name] as Record<string, tf.Tensor>;
      const old = slot[k];
      if (old !== undefined) replaced.push(old);
      slot[k] = t;
    }
  }
  tf.dispose(replaced);
  return { updates, state: { count: state.count + 1, slots } };
};

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * SGD as `torch.optim.SGD`: `d = g + wd * w`; with momentum `buf = d` at the first step, then
 * `buf = momentum * buf + (1 - dampening) * d`; `d = nesterov ? d + momentum * buf : buf`;
 * update `-lr * d`. Slots: `{ momentum }` when `momentum > 0`, else none.
 *
 * @example
 * const opt = sgd({ momentum: 0.9, weightDecay: 5e-4 });
 */
export const sgd = (options: SgdOptions = {}): Optimizer => {
  const momentum = options.momentum ?? 0;
  const dampening = options.dampening ?? 0;
  const nesterov = options.nesterov ?? false;
  const weightDecay = options.weightDecay ?? 0;
  checkRange("sgd", "momentum", momentum, 0, Infinity);
  checkRange("sgd", "dampening", dampening, 0, 1);
  checkRange("sgd", "weightDecay", weightDecay, 0, Infinity);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    fail(
      "config",
      `sgd: nesterov needs momentum > 0 and dampening = 0 (got momentum ${momentum}, dampening ${dampening}); change one of them`,
    );
  }
  const name = `sgd(momentum=${momentum}, dampening=${dampening}, nesterov=${nesterov}, weightDecay=${weightDecay})`;
  return {
    name,
    init: (weights) => ({ count: 0, slots: momentum > 0 ? { momentum: zeros(weights) } : {} }),
    update: (grads, state, weights, lr) => {
      checkLr("sgd", lr);
      checkKeys("sgd", grads, state, weights);
      return stepAll(grads, state, (k, g) => {
        const w = weights[k] as tf.Tensor;
        let d = weightDecay === 0 ? g : tf.add(g, tf.mul(w, weightDecay));
        if (momentum === 0) return { u: tf.mul(d, -lr), slots: {} };
        const old = state.slots.momentum?.[k] as tf.Tensor;
        const buf =
          state.count === 0
            ? tf.clone(d) // PyTorch: the first step sets buf = d (no dampening)
            : tf.add(tf.mul(old, momentum), dampening === 0 ? d : tf.mul(d, 1 - dampening));
        d = nesterov ? tf.add(d, tf.mul(buf, momentum)) : buf;
        return { u: tf.mul(d, -lr), slots: { momentum: buf } };
      });
    },
  };
};

const adamFamily = (
  where: "adam" | "adamw",
  options: AdamOptions,
  decoupled: boolean,
): Optimizer => {
  const [beta1, beta2] = options.betas ?? [0.9, 0.999];
  const eps = options.eps ?? 1e-8;
  const weightDecay = options.weightDecay ?? (decoupled ? 0.01 : 0);
  checkRange(where, "betas[0]", beta1, 0, 1 - Number.EPSILON);
  checkRange(where, "betas[1]", beta2, 0, 1 - Number.EPSILON);
  checkRange(where, "eps", eps, 0, Infinity);
  checkRange(where, "weightDecay", weightDecay, 0, Infinity);
  return {
    name: `${where}(betas=[${beta1}, ${beta2}], eps=${eps}, weightDecay=${weightDecay})`,
    init: (weights) => ({ count: 0, slots: { mu: zeros(weights), nu: zeros(weights) } }),
    update: (grads, state, weights, lr) => {
      checkLr(where, lr);
      checkKeys(where, grads, state, weights);
      const t = state.count + 1;
      // Scalars in float64, as PyTorch computes them in Python before the float32 kernels.
      const stepSize = lr / (1 - beta1 ** t);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
      return stepAll(grads, state, (k, g0) => {
        const w = weights[k] as tf.Tensor;
        const g = !decoupled && weightDecay !== 0 ? tf.add(g0, tf.mul(w, weightDecay)) : g0;
        const mu = tf.add(tf.mul(state.slots.mu?.[k] as tf.Tensor, beta1), tf.mul(g, 1 - beta1));
        const nu = tf.add(
          tf.mul(state.slots.nu?.[k] as tf.Tensor, beta2),
          tf.mul(tf.mul(g, 1 - beta2), g),
        );
        const denom = tf.add(tf.div(tf.sqrt(nu), bc2Sqrt), eps);
        let u = tf.div(tf.mul(mu, -stepSize), denom);
        // AdamW: w' = w * (1 - lr * wd) + u, written as the update (w * (1 - lr * wd) - w) + u.
        if (decoupled && weightDecay !== 0) {
          u = tf.add(tf.sub(tf.mul(w, 1 - lr * weightDecay), w), u);
        }
        return { u, slots: { mu, nu } };
      });
    },
  };
};

/**
 * Adam as `torch.optim.Adam` (amsgrad off): `g += wd * w`; `mu = b1 mu + (1 - b1) g`;
 * `nu = b2 nu + (1 - b2) g^2`; update `-lr / (1 - b1^t) * mu / (sqrt(nu) / sqrt(1 - b2^t) + eps)`.
 * Slots: `{ mu, nu }`.
 *
 * @example
 * const opt = adam({ betas: [0.9, 0.999], eps: 1e-8 });
 */
export const adam = (options: AdamOptions = {}): Optimizer => adamFamily("adam", options, false);

/**
 * AdamW as `torch.optim.AdamW`: Adam without L2 in the gradient, and decoupled decay
 * `w *= 1 - lr * weightDecay` before the Adam step (default `weightDecay` 0.01).
 *
 * @example
 * const opt = adamw({ weightDecay: 0.05 });
 */
export const adamw = (options: AdamOptions = {}): Optimizer => adamFamily("adamw", options, true);

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * `weights + updates` for each key of `updates` (each must be a key of `weights` with the same
 * shape); new tensors the caller owns, cast to each weight's dtype.
 *
 * @example
 * const next = applyUpdates(weights, updates); // { k: weights[k] + updates[k] }
 */
export const applyUpdates = (weights: Weights, updates: Weights): Weights => {
  for (const [k, u] of Object.entries(updates)) {
    const w = weights[k];
    if (w === undefined || !sameShape(w.shape, u.shape)) {
      fail(
        "shape",
        `applyUpdates: the update "${k}" (shape [${u.shape}]) has no weight of that name and shape; pass the weights the updates were computed for`,
      );
    }
  }
  return Object.fromEntries(
    Object.entries(updates).map(([k, u]) => {
      const w = weights[k] as tf.Tensor;
      return [k, tf.tidy(() => tf.cast(tf.add(w, u), w.dtype))];
    }),
  );
};

/** A deep copy of an optimizer state (new tensors the caller owns). */
export const cloneOptState = (state: OptState): OptState => ({
  count: state.count,
  slots: Object.fromEntries(
    Object.entries(state.slots).map(([name, w]) => [
      name,
      Object.fromEntries(Object.entries(w).map(([k, t]) => [k, t.clone()])),
    ]),
  ),
});

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Frees every tensor of an optimizer state. */
export const disposeOptState = (state: OptState): void => {
  for (const w of Object.values(state.slots)) tf.dispose(Object.values(w));
};
