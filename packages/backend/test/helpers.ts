/** Shared test helpers: seeded randomness and cross-backend comparison. */
import * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

/** A seeded uniform [0, 1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** One of `xs`. */
export function pick<A>(r: () => number, xs: ReadonlyArray<A>): A {
  return xs[Math.floor(r() * xs.length)] as A;
}

/** `n` standard-normal-ish float32 values. */
export function normals(r: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() + r() - 2) * 1.7;
  return out;
}

/** A plain value a kernel input is rebuilt from on each backend. */
export interface HostTensor {
  readonly values: Float32Array | Int32Array;
  readonly shape: number[];
  readonly dtype: "float32" | "int32";
}

/** A float32 host tensor of the given shape with seeded normal values. */
export function hostNormal(r: () => number, shape: number[]): HostTensor {
  return {
    values: normals(
      r,
      shape.reduce((a, b) => a * b, 1),
    ),
    shape,
    dtype: "float32",
  };
}

/** Runs kernel `name` on `backend` with host inputs, returns the output values and shape. */
export function runOn(
  backend: string,
  name: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): { values: Float32Array | Int32Array; shape: number[] } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape, v.dtype);
    // runKernel's attrs type is NamedAttrMap; our attrs are plain JSON-like values.
    const out = tf
      .engine()
      .runKernel(
        name,
        ins,
        attrs as Parameters<ReturnType<typeof tf.engine>["runKernel"]>[2],
      ) as tf.Tensor;
    return { values: out.dataSync() as Float32Array | Int32Array, shape: out.shape };
  });
}

/**
 * Tolerance used for float32 comparisons: |got - want| <= rtol * max|want| + atol, element-wise,
 * i.e. relative to the scale of the reference output.
 */
export const RTOL = 1e-4;
/** Absolute slack for outputs that are all near zero. */
export const ATOL = 1e-5;

/** Asserts shapes equal and values within RTOL/ATOL of the reference. */
export function expectClose(
  got: { values: ArrayLike<number>; shape: number[] },
  want: { values: ArrayLike<number>; shape: number[] },
  label: string,
  rtol = RTOL,
): void {
  expect(got.shape, label).toEqual(want.shape);
  let scale = 0;
  for (let i = 0; i < want.values.length; i++)
    scale = Math.max(scale, Math.abs(want.values[i] as number));
  const tol = rtol * scale + ATOL;
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.values.length; i++) {
    const d = Math.abs((got.values[i] as number) - (want.values[i] as number));
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${label}: worst |diff| ${worst} at ${at} (tol ${tol})`).toBeLessThanOrEqual(tol);
}

/** Bitwise equality of float values (`Object.is`, so 0 and -0 differ) that treats every NaN as equal. */
export function expectSameFloats(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  label: string,
): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const v = want[i] as number;
    if (Number.isNaN(v) && Number.isNaN(g)) continue;
    if (!Object.is(g, v)) expect.fail(`${label}: element ${i} is ${g}, expected ${v}`);
  }
}

/** gamma_n = n u / (1 - n u) for float32 (u = 2^-24): a float32 sum of n terms is within gamma_n of exact, relative to the sum of |terms|. */
export const gamma = (n: number): number => (n * 2 ** -24) / (1 - n * 2 ** -24);

/** An oracle's exact values (float64) and, per element, the sum of the |terms| behind it. */
export interface BoundOracle {
  readonly value: ArrayLike<number>;
  readonly abs: ArrayLike<number>;
}

/** Extra tolerance per element: `true` for one rounding to float32 (u |value|), or a function of the value. */
export type Slack = boolean | ((value: number) => number);

const slackOf = (slack: Slack): ((v: number) => number) =>
  typeof slack === "function" ? slack : slack ? (v) => 2 ** -24 * Math.abs(v) : () => 0;

/**
 * The first element where |got - value| > gamma_n * abs + slack(value), as a message, or
 * undefined when all are within the bound (the float32 dot-product bound of an n-term sum).
 */
export function outsideBound(
  got: ArrayLike<number>,
  want: BoundOracle,
  n: number,
  slack: Slack = false,
): string | undefined {
  if (got.length !== want.value.length)
    return `length ${got.length}, expected ${want.value.length}`;
  const gn = gamma(n);
  const extra = slackOf(slack);
  for (let i = 0; i < want.value.length; i++) {
    const v = want.value[i] as number;
    const tol = gn * (want.abs[i] as number) + extra(v);
    const d = Math.abs((got[i] as number) - v);
    if (!(d <= tol)) return `element ${i} is ${got[i]}, expected ${v} (tol ${tol})`;
  }
  return undefined;
}

/** Asserts {@link outsideBound} finds nothing. */
export function expectWithinBound(
  got: ArrayLike<number>,
  want: BoundOracle,
  n: number,
  label: string,
  slack: Slack = false,
): void {
  const bad = outsideBound(got, want, n, slack);
  if (bad !== undefined) expect.fail(`${label}: ${bad}`);
}

/** A convolution's padding as tfjs takes it (NHWC explicit padding included). */
export type ConvPad =
  | "same"
  | "valid"
  | number
  | [[0, 0], [number, number], [number, number], [0, 0]];

/** The padding of a drawn `kind`: a number 0-2, or explicit padding of 0-3 per side, from `r`. */
export const padOf = (r: () => number, kind: "same" | "valid" | "number" | "explicit"): ConvPad =>
  kind === "number"
    ? int(r, 0, 2)
    : kind === "explicit"
      ? [
          [0, 0],
          [int(r, 0, 3), int(r, 0, 3)],
          [int(r, 0, 3), int(r, 0, 3)],
          [0, 0],
        ]
      : kind;

/** One seeded convolution geometry of {@link convCases}. */
export interface ConvCase {
  readonly xShape: [number, number, number, number];
  readonly filter: [number, number, number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: ConvPad;
  readonly label: string;
}

/** What varies between the kernels' geometry sets. */
export interface ConvCaseOptions {
  /** Input channels of case `i`, drawn from `r`. */
  readonly cin: (r: () => number) => number;
  /** Whether case `i` draws dilations 1-3 (strides are then 1: tfjs refuses both > 1). */
  readonly dilated: (i: number) => boolean;
  /** Largest input height and width. */
  readonly maxSide: number;
  /** Largest filter height and width. */
  readonly maxFilter: number;
}

/**
 * Seeded random convolution geometries with at least one output pixel: batch 1-3 (1 every fourth
 * case), `same`, `valid`, numeric and explicit padding, strides 1-3 or dilations 1-3, output
 * channels covering every residue mod 8.
 */
export function convCases(seed: number, count: number, o: ConvCaseOptions): ConvCase[] {
  const r = rng(seed);
  const out: ConvCase[] = [];
  while (out.length < count) {
    const i = out.length;
    const cin = o.cin(r);
    const cout = pick(r, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 32]);
    const kind = pick(r, ["same", "valid", "number", "explicit"] as const);
    const pad = padOf(r, kind);
    const dilations: [number, number] = o.dilated(i) ? [int(r, 1, 3), int(r, 1, 3)] : [1, 1];
    const strides: [number, number] =
      dilations[0] > 1 || dilations[1] > 1 ? [1, 1] : [int(r, 1, 3), int(r, 1, 3)];
    const xShape: [number, number, number, number] = [
      i % 4 === 0 ? 1 : int(r, 1, 3),
      int(r, 1, o.maxSide),
      int(r, 1, o.maxSide),
      cin,
    ];
    const filter: [number, number, number, number] = [
      int(r, 1, o.maxFilter),
      int(r, 1, o.maxFilter),
      cin,
      cout,
    ];
    const info = tf.backend_util.computeConv2DInfo(xShape, filter, strides, dilations, pad);
    if (info.outHeight < 1 || info.outWidth < 1) continue;
    out.push({
      xShape,
      filter,
      strides,
      dilations,
      pad,
      label: `#${i} x[${xShape}] w[${filter}] s${strides} d${dilations} ${JSON.stringify(pad)}`,
    });
  }
  return out;
}

/** The tfjs convolution info of a case. */
export const convInfoOf = (k: ConvCase): tf.backend_util.Conv2DInfo =>
  tf.backend_util.computeConv2DInfo(k.xShape, k.filter, k.strides, k.dilations, k.pad);
