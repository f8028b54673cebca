/**
 * The averager model, optax style: a pair of pure functions `init()` and
 * `update(state, weights) -> state`, with the state passed explicitly.
 *
 * Memory rule (one rule for every averager): `update(state, w)` CONSUMES `state`: on success it
 * disposes `state.mean` and returns a new state whose `mean` the caller owns; the last state is
 * freed with {@link disposeState}. `update` never disposes `w`. If `update` throws (a programmer
 * mistake such as a key mismatch), `state` is left intact.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { disposeWeights, type Weights } from "@wider/weights";
import { fail } from "./errors.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** `n`: how many weight sets have been averaged (PyTorch `n_averaged`); `mean`: null before the first. */
export interface AveragerState {
  readonly n: number;
  readonly mean: Weights | null;
}

/** A running average over weight sets: `init()` then `update(state, w)` per collected model. */
export interface Averager {
  readonly init: () => AveragerState;
  readonly update: (state: AveragerState, weights: Weights) => AveragerState;
}

/**
 * The per-tensor averaging rule, as PyTorch's `avg_fn(averaged, current, num_averaged)`:
 * `mean` and `w` are float32, `n >= 1` is the number already averaged; return the new mean.
 * Called inside `tf.tidy`, so intermediates are freed; return a tensor shaped like `mean`.
 */
export type AvgFn = (mean: tf.Tensor, w: tf.Tensor, n: number, key: string) => tf.Tensor;

/** What to do with buffers (non-trainable weights such as BatchNorm moving statistics). */
export type BufferMode = "average" | "copy";

/** Options shared by every averager. */
export interface AveragerOptions {
  /**
   * For buffers present in the weights given to `update` (take them with
   * `fromModel(model, { include: "all" })`): `"average"` (default) averages them like parameters
   * (PyTorch `use_buffers=True`); `"copy"` keeps the latest weights' buffers (PyTorch >= 2.0
   * `use_buffers=False`, which keeps buffers in sync with the source model).
   */
  readonly buffers?: BufferMode;
  /**
   * Which keys are buffers. Default: names ending in `/moving_mean` or `/moving_variance`
   * (tfjs `BatchNormalization`). Use `isBufferOf(model)` for other non-trainable weights.
   */
  readonly isBuffer?: (key: string) => boolean;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The default buffer test: tfjs BatchNormalization moving statistics. */
export const isBatchNormBuffer = (key: string): boolean =>
  key.endsWith("/moving_mean") || key.endsWith("/moving_variance");

/**
 * A buffer test from a model: its non-trainable weights (by `originalName`, the key `fromModel`
 * uses).
 *
 * @example
 * const avg = swa({ buffers: "copy", isBuffer: isBufferOf(model) });
 */
export const isBufferOf = (model: tfl.LayersModel): ((key: string) => boolean) => {
  const names = new Set(model.nonTrainableWeights.map((v) => v.originalName));
  return (key) => names.has(key);
};

/** The empty state every averager starts from. */
export const emptyState = (): AveragerState => ({ n: 0, mean: null });

const toFloat32 = (t: tf.Tensor): tf.Tensor => (t.dtype === "float32" ? t : tf.cast(t, "float32"));

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const checkKeys = (mean: Weights, w: Weights): void => {
  const km = Object.keys(mean);
  const kw = Object.keys(w);
  const missing = km.filter((k) => !(k in w));
  const extra = kw.filter((k) => !(k in mean));
  if (missing.length > 0 || extra.length > 0) {
    fail(
      "shape",
      `update: the weights do not match the running mean (missing: [${missing.slice(0, 4).join(", ")}], ` +
        `unexpected: [${extra.slice(0, 4).join(", ")}]); pass weights of the same model and include`,
      {
        ...((missing[0] ?? extra[0]) === undefined ? {} : { path: missing[0] ?? extra[0] }),
        fix: "pass weights of the same model and include",
      },
    );
  }
  for (const k of km) {
    const a = mean[k]!.shape;
    const b = w[k]!.shape;
    if (!sameShape(a, b)) {
      fail("shape", `update: "${k}" has shape [${b}] but the running mean has [${a}]`, {
        path: k,
        value: b,
        fix: `a tensor of shape [${a}]`,
      });
    }
  }
};

/**
 * A cpu fast path of a rule: writes the new mean into `out` from the old mean `a` and weights `b`
 * (float32 arrays), `n` as in {@link AvgFn}. It must round like the tensor rule (use `Math.fround`
 * after every operation) so both paths give the same float32 numbers.
 */
export type CpuRule = (a: Float32Array, b: Float32Array, out: Float32Array, n: number) => void;

/**
 * A one-pass kernel computing a rule, looked up by name on the active backend: when a kernel
 * `name` is registered there (`tf.getKernel(name, tf.getBackend())`), `update` runs
 * `runKernel(name, { mean, w }, attrs(n))` (float32 `mean` and `w` of one shape, the new mean
 * out) instead of the tensor rule. The kernel must give the same float32 numbers as the rule.
 * @wider/backend registers {@link swaUpdateKernelName} and {@link emaUpdateKernelName} on wasm.
 */
export interface KernelRule {
  readonly name: string;
  readonly attrs: (n: number) => tf.NamedAttrMap;
}

/** Faster paths computing the same numbers as a rule; the tensor rule runs where none applies. */
export interface FastPaths {
  /** Used on the `cpu` backend (unless a kernel is registered there). */
  readonly cpu?: CpuRule;
  /** Used on any backend where a kernel of that name is registered. */
  readonly kernel?: KernelRule;
}

/**
 * Name of the one-pass SWA kernel: inputs `{ mean, w }`, attrs `{ count }` (= n + 1), output
 * `mean + (w - mean) / count` rounded to float32 after each operation.
 */
export const swaUpdateKernelName = "WiderSwaUpdate";

/**
 * Name of the one-pass EMA kernel: inputs `{ mean, w }`, attrs `{ decay }`, output
 * `decay * mean + (1 - decay) * w` rounded to float32 after each operation.
 */
export const emaUpdateKernelName = "WiderEmaUpdate";

/** Runs a {@link CpuRule} on the cpu backend's arrays (`dataSync` returns them without a copy). */
const runOnCpu = (mean: tf.Tensor, w: tf.Tensor, n: number, cpu: CpuRule): tf.Tensor => {
  const a = mean.dataSync() as Float32Array;
  const b = w.dataSync() as Float32Array;
  const out = new Float32Array(a.length);
  cpu(a, b, out, n);
  return tf.tensor(out, mean.shape, "float32");
};

/** How `update` computes parameters on the backend active now. */
type Path =
  | { readonly kind: "kernel"; readonly kernel: KernelRule }
  | { readonly kind: "cpu"; readonly cpu: CpuRule }
  | { readonly kind: "rule" };

const pathNow = (fast: FastPaths): Path => {
  const backend = tf.getBackend();
  if (fast.kernel !== undefined && tf.getKernel(fast.kernel.name, backend) !== undefined) {
    return { kind: "kernel", kernel: fast.kernel };
  }
  if (fast.cpu !== undefined && backend === "cpu") return { kind: "cpu", cpu: fast.cpu };
  return { kind: "rule" };
};

/**
 * Builds an averager from a per-tensor rule: the first update copies (cast to float32), later
 * updates apply `rule(mean, w, n, key)` to parameters and, per `options.buffers`, to buffers.
 * The running mean is float32 whatever the dtype of the weights.
 */
export const fromRule = (rule: AvgFn, options: AveragerOptions = {}): Averager =>
  makeAverager(rule, options);

/**
 * An averager from a tensor rule plus optional {@link FastPaths} computing the same float32
 * numbers: a registered one-pass kernel (e.g. @wider/backend's on wasm, where the three-kernel
 * rule costs three passes over the weights), or a JS loop on the `cpu` backend (about 8x faster
 * there than three tfjs-cpu kernels with a broadcast scalar).
 *
 * @example
 * const half = makeAverager((m, w) => tf.add(tf.mul(m, 0.5), tf.mul(w, 0.5)), {});
 */
export const makeAverager = (
  rule: AvgFn,
  options: AveragerOptions,
  fast: FastPaths = {},
): Averager => {
  const copyBuffers = (options.buffers ?? "average") === "copy";
  if (
    options.buffers !== undefined &&
    options.buffers !== "average" &&
    options.buffers !== "copy"
  ) {
    fail("config", `buffers is ${JSON.stringify(options.buffers)}; use "average" or "copy"`, {
      path: "buffers",
      value: options.buffers,
      fix: '"average" or "copy"',
    });
  }
  const isBuffer = options.isBuffer ?? isBatchNormBuffer;
  const update = (state: AveragerState, w: Weights): AveragerState => {
    const old = state.mean;
    if (old !== null) checkKeys(old, w);
    const path = pathNow(fast);
    const out: Record<string, tf.Tensor> = {};
    try {
      for (const [k, t] of Object.entries(w)) {
        out[k] = tf.tidy(() => {
          const x = toFloat32(t);
          if (old === null || (copyBuffers && isBuffer(k))) return x === t ? t.clone() : x;
          const m = old[k]!;
          if (path.kind === "kernel") {
            const { name, attrs } = path.kernel;
            const r = tf.engine().runKernel(name, { mean: m, w: x }, attrs(state.n)) as tf.Tensor;
            // Any backend may register the name: hold it to the contract.
            if (r.dtype !== "float32" || !sameShape(r.shape, m.shape)) {
              fail(
                "unsupported",
                `update: kernel ${name} returned ${r.dtype} [${r.shape}] for "${k}", expected float32 [${m.shape}]`,
              );
            }
            return r;
          }
          if (path.kind === "cpu") return runOnCpu(m, x, state.n, path.cpu);
          const r = rule(m, x, state.n, k);
          if (!sameShape(r.shape, m.shape)) {
            fail(
              "shape",
              `update: the rule returned shape [${r.shape}] for "${k}", expected [${m.shape}]`,
            );
          }
          // Never hand back a tensor the caller (or the old state) owns.
          const own = r === m || r === t ? r.clone() : r;
          return toFloat32(own);
        });
      }
    } catch (e) {
      disposeWeights(out);
      throw e;
    }
    if (old !== null) disposeWeights(old);
    return { n: state.n + 1, mean: out };
  };
  return { init: emptyState, update };
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Frees the tensors of a state (the last one; earlier states were consumed by `update`). */
export const disposeState = (state: AveragerState): void => {
  if (state.mean !== null) disposeWeights(state.mean);
};
