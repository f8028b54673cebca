/**
 * Width of a solution along rays: how far one can move from the center before the train loss
 * rises by a set amount, and its summary over many rays — "SWA is wider than SGD" as a number.
 * Pure functions of plain data.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { fail, type GeometryError, geometryError } from "./errors.js";
import type { LinePoint } from "./plans.js";
import type { PlanResults } from "./results.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** One sample of a profile along a line: `value` is `null` when it was not finite. */
export interface ProfilePoint {
  readonly distance: number;
  readonly value: number | null;
}

/**
 * The width on one side of the center. When the threshold is crossed, `width` is the distance
 * (positive) of the first crossing, linearly interpolated between the two grid points around it.
 * When it is never crossed within the evaluated range, `width` is `null`, `exceeded` is false, and
 * the true width is only known to be greater than `reach`.
 */
export interface SideWidth {
  readonly width: number | null;
  readonly exceeded: boolean;
  /** The furthest distance evaluated on this side (0 when none). */
  readonly reach: number;
}

/** The width of a ray on both sides of its center. */
export interface RayWidth {
  /** The value at distance 0 and the threshold `center + delta`. */
  readonly center: number;
  readonly threshold: number;
  /** Along positive distances. */
  readonly positive: SideWidth;
  /** Along negative distances (reported as a positive number). */
  readonly negative: SideWidth;
}

/** Options of {@link rayWidth}. */
export interface WidthOptions {
  /** The rise of the value over the center's that ends the width (> 0). */
  readonly delta: number;
  /** The center's value, when distance 0 is not among the points. */
  readonly centerValue?: number;
}

/** Order statistics of widths; an entry is `null` when it falls on a width never exceeded (censored). */
export interface WidthSummary {
  /** Number of widths summarised, and how many of them were never exceeded within range. */
  readonly count: number;
  readonly censored: number;
  readonly min: number | null;
  readonly q1: number | null;
  readonly median: number | null;
  readonly q3: number | null;
  readonly max: number | null;
}

// -------------------------------------------------------------------------------------------------
// width
// -------------------------------------------------------------------------------------------------

const side = (
  points: readonly ProfilePoint[],
  sign: 1 | -1,
  center: number,
  threshold: number,
): SideWidth => {
  const ordered = points
    .filter((p) => sign * p.distance > 0)
    .map((p) => ({ d: sign * p.distance, v: p.value }))
    .sort((a, b) => a.d - b.d);
  let prevD = 0;
  let prevV = center;
  for (const { d, v } of ordered) {
    if (v === null || !Number.isFinite(v)) {
      // A non-finite value exceeds any threshold; no interpolation is possible, so the width is
      // taken at the last finite point before it (a lower estimate).
      return { width: prevD, exceeded: true, reach: ordered[ordered.length - 1]!.d };
    }
    if (v > threshold) {
      const width = prevD + ((threshold - prevV) / (v - prevV)) * (d - prevD);
      return { width, exceeded: true, reach: ordered[ordered.length - 1]!.d };
    }
    prevD = d;
    prevV = v;
  }
  return { width: null, exceeded: false, reach: prevD };
};

/**
 * The width of one ray: on each side of distance 0, the distance at which `value` first exceeds
 * `center + delta`, interpolated linearly between grid points. The center's value is the point at
 * distance 0, or `options.centerValue`. Left when neither is available or `delta <= 0`.
 *
 * @example
 * rayWidth([{ distance: 0, value: 1 }, { distance: 1, value: 1.5 }, { distance: 2, value: 3 }], { delta: 1 })
 * // positive: { width: 1 + (2 - 1.5) / (3 - 1.5), exceeded: true, reach: 2 }
 */
export const rayWidth = (
  points: readonly ProfilePoint[],
  options: WidthOptions,
): E.Either<GeometryError, RayWidth> => {
  const { delta } = options;
  if (!(Number.isFinite(delta) && delta > 0)) {
    fail("config", `delta is ${delta}: give a finite number > 0 (e.g. 0.1)`, {
      path: "delta",
      value: delta,
      fix: "a finite number > 0 (e.g. 0.1)",
    });
  }
  const atZero = points.find((p) => p.distance === 0);
  const center = options.centerValue ?? atZero?.value ?? null;
  if (center === null || !Number.isFinite(center)) {
    return E.left(
      geometryError(
        "config",
        `the center's value is ${center === null ? "unknown" : center}: include distance 0 (with a finite value) in the ray or pass centerValue`,
        {
          path: "centerValue",
          value: center,
          fix: "include distance 0 (with a finite value) in the ray or pass centerValue",
        },
      ),
    );
  }
  const threshold = center + delta;
  return E.right({
    center,
    threshold,
    positive: side(points, 1, center, threshold),
    negative: side(points, -1, center, threshold),
  });
};

/**
 * The profile of `metric` along a ray or segment's results, for {@link rayWidth} and plots.
 * Throws for a plane's results or a metric the results lack (programmer's mistakes).
 */
export const profileOf = (results: PlanResults, metric: string): ProfilePoint[] => {
  if (results.plan.kind === "plane") {
    fail("config", "profileOf needs a ray's or a segment's results, not a plane's", {
      path: "results",
      fix: "pass the results of a ray or a segment",
    });
  }
  return results.results.map((r) => {
    const value = r.metrics[metric];
    if (value === undefined) {
      fail(
        "config",
        `metric "${metric}" is not in the results (they have ${Object.keys(r.metrics).join(", ")})`,
        { path: "metric", value: metric, fix: `one of ${Object.keys(r.metrics).join(", ")}` },
      );
    }
    return { distance: (r as LinePoint).distance, value };
  });
};

/** Options of {@link widthsOfRays}. */
export interface RaysWidthOptions extends WidthOptions {
  /** The metric the width is measured on, e.g. `"trainLoss"`. */
  readonly metric: string;
  /** Which sides of each ray count as samples. Default `"both"` (a ray gives two half-rays). */
  readonly sides?: "positive" | "negative" | "both";
}

/**
 * The widths of many rays' results as samples for {@link summarizeWidths}: one per side asked for,
 * `null` for a side whose threshold was never exceeded. Left on the first ray without a center value.
 */
export const widthsOfRays = (
  rays: readonly PlanResults[],
  options: RaysWidthOptions,
): E.Either<GeometryError, (number | null)[]> => {
  const sides = options.sides ?? "both";
  const out: (number | null)[] = [];
  for (const [i, ray] of rays.entries()) {
    const w = rayWidth(profileOf(ray, options.metric), options);
    if (E.isLeft(w)) {
      return E.left(geometryError(w.left.kind, `ray ${i}: ${w.left.message}`, w.left));
    }
    if (sides !== "negative") out.push(w.right.positive.width);
    if (sides !== "positive") out.push(w.right.negative.width);
  }
  return E.right(out);
};

/**
 * Quantile of sorted values with linear interpolation between order statistics (the default of
 * NumPy and R, "type 7"); `p` in [0, 1].
 */
export const quantile = (sorted: readonly number[], p: number): number => {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return h === lo || a === b ? a : a + (h - lo) * (b - a);
};

/**
 * Min, quartiles (type-7 quantiles) and max of widths. A `null` width (never exceeded within
 * range) counts as larger than every finite one; a statistic that lands on or between such widths
 * is `null` (only a lower bound is known). Throws on an empty list (a programmer's mistake).
 *
 * @example
 * summarizeWidths([1, 2, 3, null]) // { count: 4, censored: 1, min: 1, q1: 1.75, median: 2.5, q3: null, max: null }
 */
export const summarizeWidths = (widths: readonly (number | null)[]): WidthSummary => {
  if (widths.length === 0)
    fail("config", "summarizeWidths needs at least one width", {
      path: "widths",
      fix: "at least one width",
    });
  const sorted = widths
    .map((w) => (w === null ? Number.POSITIVE_INFINITY : w))
    .sort((a, b) => a - b);
  const q = (p: number): number | null => {
    const v = quantile(sorted, p);
    return Number.isFinite(v) ? v : null;
  };
  return {
    count: widths.length,
    censored: widths.filter((w) => w === null).length,
    min: q(0),
    q1: q(0.25),
    median: q(0.5),
    q3: q(0.75),
    max: q(1),
  };
};
