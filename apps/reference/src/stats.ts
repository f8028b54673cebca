/**
 * Statistics across seeds: mean and sample standard deviation, paired differences and the
 * two-sided paired t-test (Student's t distribution through the regularised incomplete beta
 * function, evaluated by its continued fraction).
 *
 * @module
 */

/** Mean and sample standard deviation (n - 1; 0 for one value) of the finite values. */
export interface Summary {
  readonly mean: number | null;
  readonly std: number | null;
  /** Every value, including non-finite and missing ones (left out of the moments). */
  readonly values: readonly (number | null)[];
}

/** Summarises values; non-finite and null entries are kept in `values` but not in the moments. */
export const summarize = (values: readonly (number | null)[]): Summary => {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, std: null, values };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std =
    xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, std, values };
};

/** `ln Gamma(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error below 1e-13). */
export const logGamma = (x: number): number => {
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531,
    -176.6150291621406, 12.507343278686905, -0.13857109526572012, 9.984369578019572e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
};

/** Continued fraction of the incomplete beta function (modified Lentz). */
const betaFraction = (a: number, b: number, x: number): number => {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
};

/** The regularised incomplete beta function `I_x(a, b)` for `a, b > 0`, `x` in `[0, 1]`. */
export const incompleteBeta = (x: number, a: number, b: number): number => {
  if (!(x >= 0 && x <= 1) || !(a > 0) || !(b > 0))
    throw new RangeError(`incompleteBeta: needs x in [0, 1] and a, b > 0; got ${x}, ${a}, ${b}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
};

/**
 * Two-sided p-value of Student's t statistic with `df` degrees of freedom:
 * `P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2)`.
 *
 * @example
 * studentTwoSided(2.776445, 4) // ≈ 0.05
 */
export const studentTwoSided = (t: number, df: number): number => {
  if (!(df > 0)) throw new RangeError(`studentTwoSided: df must be > 0; got ${df}`);
  if (Number.isNaN(t)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
};

/** A paired comparison `a - b` across seeds. */
export interface PairedDifference {
  /** Per-seed differences (`null` where either side is missing). */
  readonly values: readonly (number | null)[];
  readonly mean: number | null;
  /** Sample standard deviation of the differences. */
  readonly std: number | null;
  /** Number of complete pairs. */
  readonly n: number;
  /** `mean / (std / sqrt(n))`; `null` with fewer than 2 pairs or zero spread. */
  readonly t: number | null;
  /** Two-sided paired t-test p-value (df = n - 1); `null` where `t` is. */
  readonly p: number | null;
}

/** The paired difference `a[i] - b[i]` with its paired t-test. */
export const pairedDifference = (
  a: readonly (number | null)[],
  b: readonly (number | null)[],
): PairedDifference => {
  if (a.length !== b.length)
    throw new RangeError(`pairedDifference: ${a.length} values against ${b.length}`);
  const values = a.map((x, i) => {
    const y = b[i];
    return x === null || y === null || y === undefined || !Number.isFinite(x - y) ? null : x - y;
  });
  const s = summarize(values);
  const n = values.filter((v) => v !== null).length;
  // A std at rounding level (equal differences in every seed, e.g. the same 8 test images) makes
  // t huge and p meaningless: no test, as for an exact 0.
  if (s.mean === null || s.std === null || n < 2 || s.std <= 1e-12 * Math.max(1, Math.abs(s.mean)))
    return { values, mean: s.mean, std: s.std, n, t: null, p: null };
  const t = s.mean / (s.std / Math.sqrt(n));
  return { values, mean: s.mean, std: s.std, n, t, p: studentTwoSided(t, n - 1) };
};
