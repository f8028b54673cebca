/**
 * Sharpness: the top eigenvalue of the Hessian of a loss at a point, by power iteration on
 * Hessian-vector products (HVPs). Exact HVPs use tfjs gradients of gradients; finite-difference
 * HVPs use two gradients.
 *
 * tfjs 4.22 and second derivatives (checked on the cpu backend, see `test/sharpness.test.ts`):
 * nested `tf.grad` works through matMul, add, sub, mul, div, square, pow, relu, maximum, log, sum
 * and mean. It does NOT work through ops whose gradient reuses their saved output — exp, tanh,
 * sigmoid, softmax, logSoftmax (and so `tf.losses.softmaxCrossEntropy`) — nor through minimum
 * (LessEqual), clipByValue (LogicalAnd) and logSumExp (Equal) — their gradients' ops have no
 * gradient. There tfjs either throws ("Cannot compute gradient of y=f(x)") or, when another path
 * connects the parameters, silently drops those terms. So exact HVPs cannot be trusted for a
 * softmax classifier; use `method: "finite-difference"` (the default for models) there.
 * {@link modelSharpness} checks an exact HVP against a finite-difference one before using it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import {
  type AssignOptions,
  axpy,
  disposeWeights,
  dot,
  norm,
  scale,
  sub,
  type Weights,
  withWeightsSync,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { randomDirection } from "./directions.js";
import { type GeometryError, geometryError } from "./errors.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** A Hessian-vector product operator `v -> H v` at a fixed point; the caller owns each result. */
export type Hvp = (v: Weights) => Weights;

/** Options of {@link topHessianEigenvalue}. */
export interface PowerIterationOptions {
  /** Maximum number of HVPs. Default 100. */
  readonly iterations?: number;
  /** Stop when the eigenvalue estimate changes by at most `tolerance * |estimate|`. Default 1e-4. */
  readonly tolerance?: number;
  /** Seed of the random start vector. Default 0. */
  readonly seed?: number;
}

/** The result of a power iteration. */
export interface EigenResult {
  /** The Rayleigh quotient `v . H v` at the last unit iterate: the eigenvalue of largest magnitude. */
  readonly eigenvalue: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** The estimate after each iteration. */
  readonly history: readonly number[];
}

/** How HVPs are computed: tfjs second derivatives, or central differences of gradients. */
export type HvpMethod = "exact" | "finite-difference";

// -------------------------------------------------------------------------------------------------
// Hessian-vector products
// -------------------------------------------------------------------------------------------------

const keysOf = (w: Weights): string[] => Object.keys(w);

const toRecord = (keys: readonly string[], ts: readonly tf.Tensor[]): Weights =>
  Object.fromEntries(keys.map((k, i) => [k, ts[i]!]));

/** The gradient of `loss` at `at`, keyed like `at`; the caller owns it. */
export const lossGradient = (loss: (w: Weights) => tf.Scalar, at: Weights): Weights => {
  const keys = keysOf(at);
  const grads = tf.tidy(() =>
    tf.grads((...xs: tf.Tensor[]) => loss(toRecord(keys, xs)))(keys.map((k) => at[k]!)),
  );
  return toRecord(keys, grads);
};

/**
 * The exact HVP operator of `loss` at `at`: `H v = grad_w (grad_w loss(w) . v)` by nested
 * `tf.grads`. Only ops with tfjs second derivatives may appear in `loss` (see the module notes).
 */
export const exactHvp =
  (loss: (w: Weights) => tf.Scalar, at: Weights): Hvp =>
  (v) => {
    const keys = keysOf(at);
    const hv = tf.tidy(() => {
      const gv = (...xs: tf.Tensor[]): tf.Scalar => {
        const g = tf.grads((...ys: tf.Tensor[]) => loss(toRecord(keys, ys)))(xs);
        return tf.addN(g.map((gi, i) => tf.sum(tf.mul(gi, v[keys[i]!]!)))) as tf.Scalar;
      };
      return tf.grads(gv)(keys.map((k) => at[k]!));
    });
    return toRecord(keys, hv);
  };

/**
 * The central finite-difference HVP operator `(g(w + eps u) - g(w - eps u)) / (2 eps) * |v|`
 * with `u = v / |v|`, for a gradient function `g` (the caller owns what `g` returns). Its error is
 * `O(eps^2)` times the third derivative, plus float32 rounding of order `1e-7 |g| / eps`.
 */
export const finiteDifferenceHvp =
  (gradient: (w: Weights) => Weights, at: Weights, eps = 1e-3): Hvp =>
  (v) => {
    const vn = norm(v);
    if (!(vn > 0)) return scale(v, 0);
    const plus = axpy(eps / vn, v, at);
    const minus = axpy(-eps / vn, v, at);
    const gp = gradient(plus);
    const gm = gradient(minus);
    disposeWeights(plus);
    disposeWeights(minus);
    const d = sub(gp, gm);
    disposeWeights(gp);
    disposeWeights(gm);
    const out = scale(d, vn / (2 * eps));
    disposeWeights(d);
    return out;
  };

// -------------------------------------------------------------------------------------------------
// power iteration
// -------------------------------------------------------------------------------------------------

/**
 * The eigenvalue of largest magnitude of the symmetric operator `hvp` on weights shaped like
 * `like`, by power iteration from a seeded random unit vector. At a minimum the Hessian is
 * (nearly) positive semi-definite and this is the top eigenvalue, the usual "sharpness".
 * Leaves no tensors behind.
 */
export const topHessianEigenvalue = (
  hvp: Hvp,
  like: Weights,
  options: PowerIterationOptions = {},
): EigenResult => {
  const { iterations = 100, tolerance = 1e-4, seed = 0 } = options;
  let v = randomDirection(like, seed);
  const history: number[] = [];
  let converged = false;
  try {
    for (let i = 0; i < iterations; i++) {
      const hv = hvp(v);
      const lambda = dot(v, hv);
      const hn = norm(hv);
      const previous = history[history.length - 1];
      history.push(lambda);
      if (!(hn > 0)) {
        disposeWeights(hv);
        converged = true;
        break;
      }
      const next = scale(hv, 1 / hn);
      disposeWeights(hv);
      disposeWeights(v);
      v = next;
      if (previous !== undefined && Math.abs(lambda - previous) <= tolerance * Math.abs(lambda)) {
        converged = true;
        break;
      }
    }
  } finally {
    disposeWeights(v);
  }
  return {
    eigenvalue: history[history.length - 1] ?? Number.NaN,
    iterations: history.length,
    converged,
    history,
  };
};

/** Options of {@link lossSharpness} and {@link modelSharpness}. */
export interface SharpnessOptions extends PowerIterationOptions {
  /** `"exact"` (nested gradients) or `"finite-difference"`. */
  readonly method?: HvpMethod;
  /** Step of the finite-difference HVP, in weight-space distance. Default 1e-3. */
  readonly eps?: number;
}

/**
 * The top Hessian eigenvalue of a differentiable `loss(w)` at `at` (default method `"exact"`).
 *
 * @example
 * lossSharpness((w) => tf.sum(tf.mul(h, tf.square(w.x!))).mul(0.5), { x }) // ~ max(h)
 */
export const lossSharpness = (
  loss: (w: Weights) => tf.Scalar,
  at: Weights,
  options: SharpnessOptions = {},
): EigenResult => {
  const { method = "exact", eps = 1e-3 } = options;
  const hvp =
    method === "exact"
      ? exactHvp(loss, at)
      : finiteDifferenceHvp((w) => lossGradient(loss, w), at, eps);
  return topHessianEigenvalue(hvp, at, options);
};

/** Options of {@link modelSharpness}. */
export interface ModelSharpnessOptions extends SharpnessOptions {
  /** For `method: "exact"`: the largest relative difference from a finite-difference HVP accepted. Default 0.05. */
  readonly checkTolerance?: number;
  /** Options passed to `assignToModel`. */
  readonly assign?: AssignOptions;
}

/**
 * The top Hessian eigenvalue, with respect to the model's trainable weights, of `loss(model)` at
 * the point `weights` (e.g. `(m) => crossEntropy(m, x, y)` on a fixed batch). Assigns `weights`,
 * runs the power iteration, and restores the model's weights. Default method `"finite-difference"`;
 * with `"exact"`, one exact HVP is first compared with a finite-difference one and a disagreement
 * is a `Left` (`kind: "degenerate"`) naming the likely cause (an op without a tfjs second derivative).
 */
export const modelSharpness = (
  model: tfl.LayersModel,
  weights: Weights,
  loss: (model: tfl.LayersModel) => tf.Scalar,
  options: ModelSharpnessOptions = {},
): E.Either<GeometryError, EigenResult> => {
  const r = withWeightsSync(
    model,
    weights,
    () => sharpnessOfModel(model, loss, options),
    options.assign,
  );
  return E.isLeft(r)
    ? E.left(
        geometryError("shape", `weights do not fit the model: ${r.left.message}`, {
          ...(r.left.path === undefined ? {} : { path: r.left.path }),
        }),
      )
    : r.right;
};

/** {@link modelSharpness} on the weights the model holds now. */
const sharpnessOfModel = (
  model: tfl.LayersModel,
  loss: (model: tfl.LayersModel) => tf.Scalar,
  options: ModelSharpnessOptions,
): E.Either<GeometryError, EigenResult> => {
  const { method = "finite-difference", eps = 1e-3, checkTolerance = 0.05 } = options;
  const vars = model.trainableWeights.map((lw) => lw.read() as tf.Variable);
  const keys = model.trainableWeights.map((lw) => lw.originalName);
  const at = toRecord(keys, vars);
  // The loss reads the model's variables, which ARE the tensors of `at`: gradients with respect
  // to `at` flow through them. Evaluating elsewhere means writing the variables (below).
  const lossAtVariables = (_w: Weights): tf.Scalar => loss(model);
  const gradientAt = (w: Weights): Weights => {
    const saved = keys.map((_, i) => tf.clone(vars[i]!));
    keys.forEach((k, i) => {
      vars[i]!.assign(w[k]!);
    });
    try {
      return lossGradient(lossAtVariables, at);
    } finally {
      saved.forEach((s, i) => {
        vars[i]!.assign(s);
        s.dispose();
      });
    }
  };
  const fd = finiteDifferenceHvp(gradientAt, at, eps);
  let hvp: Hvp = fd;
  if (method === "exact") {
    const exact = exactHvp(lossAtVariables, at);
    const probe = randomDirection(at, (options.seed ?? 0) + 1);
    const a = exact(probe);
    const b = fd(probe);
    const diff = sub(a, b);
    const rel = norm(diff) / Math.max(norm(b), 1e-12);
    for (const w of [probe, a, b, diff]) disposeWeights(w);
    if (!(rel <= checkTolerance)) {
      return E.left(
        geometryError(
          "degenerate",
          `the exact Hessian-vector product differs from a finite-difference one by ${rel.toExponential(2)} (relative; allowed ${checkTolerance}): the loss uses an op whose second derivative tfjs does not record (softmax, sigmoid, tanh, exp, logSoftmax, clipByValue...); use method: "finite-difference"`,
        ),
      );
    }
    hvp = exact;
  }
  return E.right(topHessianEigenvalue(hvp, at, options));
};

/**
 * Mean cross-entropy of `model` on `(x, y)` as a differentiable scalar (for {@link modelSharpness}):
 * `y` integer labels `[n]` or one-hot `[n, classes]`; outputs are probabilities floored at 1e-7,
 * or logits with `fromLogits`. Runs the model in inference mode (`training: false`).
 */
export const crossEntropy = (
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: { readonly fromLogits?: boolean } = {},
): tf.Scalar =>
  tf.tidy(() => {
    const out = model.apply(x, { training: false }) as tf.Tensor2D;
    const classes = out.shape[1]!;
    const oneHot =
      y.rank === 1
        ? tf.cast(tf.oneHot(tf.cast(y, "int32"), classes), "float32")
        : tf.cast(y, "float32");
    const logp = options.fromLogits ? tf.logSoftmax(out) : tf.log(tf.maximum(out, 1e-7));
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), 1))) as tf.Scalar;
  });
