/**
 * Vector-space operations over {@link Weights}. Every function returning `Weights` returns
 * new tensors that the caller owns (free them with {@link disposeWeights}); inputs are untouched.
 * Binary operations need the same keys and shapes in both arguments and throw otherwise
 * (a programmer's mistake: the two sets come from different architectures).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { raise } from "@wider/errors";
import { weightsError } from "./errors.js";
import { hasOwn, setOwn } from "./ownRecord.js";
import type { Weights } from "./types.js";

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const checkSameKeys = (op: string, a: Weights, b: Weights): void => {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length || ka.some((k) => !hasOwn(b, k))) {
    const onlyA = ka.filter((k) => !hasOwn(b, k)).slice(0, 4);
    const onlyB = kb.filter((k) => !hasOwn(a, k)).slice(0, 4);
    raise(
      weightsError(
        "shape",
        `${op}: the two weight sets have different keys (only in the first: [${onlyA.join(", ")}], ` +
          `only in the second: [${onlyB.join(", ")}])`,
        {
          ...(onlyA[0] === undefined && onlyB[0] === undefined
            ? {}
            : { path: onlyA[0] ?? onlyB[0] }),
          fix: "combine weight sets taken from the same architecture",
        },
      ),
    );
  }
  for (const k of ka) {
    const sa = a[k]!.shape;
    const sb = b[k]!.shape;
    if (sa.length !== sb.length || sa.some((d, i) => d !== sb[i])) {
      raise(
        weightsError(
          "shape",
          `${op}: "${k}" has shape [${sa}] in the first set but [${sb}] in the second`,
          { path: k, value: sb, fix: `a tensor of shape [${sa}]` },
        ),
      );
    }
  }
};

/** Applies `f` to each tensor, keeping keys in order; the results are new tensors the caller owns. */
export const map = (a: Weights, f: (t: tf.Tensor, key: string) => tf.Tensor): Weights => {
  const out: Record<string, tf.Tensor> = {};
  try {
    for (const [k, t] of Object.entries(a))
      setOwn(
        out,
        k,
        tf.tidy(() => f(t, k)),
      );
  } catch (e) {
    for (const t of Object.values(out)) t.dispose();
    throw e;
  }
  return out;
};

/** Applies `f` key by key to two sets with the same keys and shapes; the caller owns the result. */
export const zipWith = (
  a: Weights,
  b: Weights,
  f: (x: tf.Tensor, y: tf.Tensor, key: string) => tf.Tensor,
  op = "zipWith",
): Weights => {
  checkSameKeys(op, a, b);
  return map(a, (x, k) => f(x, b[k]!, k));
};

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** New zeros with the keys, shapes and dtypes of `a`; the caller owns them. */
export const zerosLike = (a: Weights): Weights => map(a, (t) => tf.zerosLike(t));

/** New copies of every tensor of `a`; the caller owns them. */
export const clone = (a: Weights): Weights => map(a, (t) => t.clone());

/** 32-bit FNV-1a hash of a string, to derive one seed per key. */
const hash32 = (s: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
};

/**
 * Standard-normal float32 tensors shaped like `a`, deterministic per `(seed, key)`: the same seed
 * gives the same values on any backend (tfjs draws them in JS), whatever the other keys are.
 * The caller owns the result.
 *
 * @example
 * const d = randomNormalLike(w, 42); // a random direction in weight space
 */
export const randomNormalLike = (a: Weights, seed: number): Weights =>
  map(a, (t, k) => tf.randomNormal(t.shape, 0, 1, "float32", hash32(`${seed}:${k}`)));

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/** `a + b`, key by key; the caller owns the result. */
export const add = (a: Weights, b: Weights): Weights => zipWith(a, b, tf.add, "add");

/** `a - b`, key by key; the caller owns the result. */
export const sub = (a: Weights, b: Weights): Weights => zipWith(a, b, tf.sub, "sub");

/** `s * a`; the caller owns the result. */
export const scale = (a: Weights, s: number): Weights => map(a, (t) => tf.mul(t, s));

/**
 * Linear interpolation `a + t (b - a)` (`t = 0` gives `a`, `t = 1` gives `b`); the caller owns it.
 *
 * @example
 * const mid = lerp(w1, w2, 0.5);
 */
export const lerp = (a: Weights, b: Weights, t: number): Weights =>
  zipWith(a, b, (x, y) => tf.add(x, tf.mul(tf.sub(y, x), t)), "lerp");

/** BLAS-style `alpha * x + y`; the caller owns the result. */
export const axpy = (alpha: number, x: Weights, y: Weights): Weights =>
  zipWith(x, y, (u, v) => tf.add(tf.mul(u, alpha), v), "axpy");

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Inner product `sum_k <a_k, b_k>` (partial sums per tensor added in float64). */
export const dot = (a: Weights, b: Weights): number => {
  checkSameKeys("dot", a, b);
  let s = 0;
  for (const [k, x] of Object.entries(a)) {
    const part = tf.tidy(() => tf.sum(tf.mul(tf.cast(x, "float32"), tf.cast(b[k]!, "float32"))));
    s += part.dataSync()[0]!;
    part.dispose();
  }
  return s;
};

/** Euclidean norm `sqrt(dot(a, a))`. */
export const norm = (a: Weights): number => Math.sqrt(dot(a, a));

/** Total number of scalar entries. */
export const numel = (a: Weights): number => Object.values(a).reduce((n, t) => n + t.size, 0);

/** Frees every tensor of `a`; using `a` afterwards is an error. */
export const disposeWeights = (a: Weights): void => {
  for (const t of Object.values(a)) t.dispose();
};
