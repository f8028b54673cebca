/**
 * Plans: paths and surfaces in weight space as lists of points in coordinates, separated from
 * their evaluation. A plan owns copies of its anchor tensors (free them with {@link disposePlan});
 * a point's weights are made on demand by {@link pointWeights}, never all held at once.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { disposeWeights, dot, map, norm, sub, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { fail, type GeometryError, geometryError } from "./errors.js";
import { checkSameStructure } from "./structure.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** A point of a ray or segment: its coefficient `t` and its signed Euclidean `distance` in weight space. */
export interface LinePoint {
  readonly index: number;
  /** The coefficient: `center + t * direction` (ray) or `a + t * (b - a)` (segment). */
  readonly t: number;
  /** Signed distance from the `t = 0` point: `t * |direction|` (ray) or `t * |b - a|` (segment). */
  readonly distance: number;
}

/** A grid point of a plane: `w1 + x * u + y * v`, in row `row` (y index) and column `col` (x index). */
export interface PlanePoint {
  readonly index: number;
  readonly row: number;
  readonly col: number;
  readonly x: number;
  readonly y: number;
}

/** Any plan's point. */
export type PlanPoint = LinePoint | PlanePoint;

/** The plain-data part of a ray plan (no tensors): JSON-serialisable. */
export interface RayDescription {
  readonly kind: "ray";
  /** `|direction|`: distances are `t` times this (1 for `randomDirection`). */
  readonly directionNorm: number;
  readonly points: readonly LinePoint[];
}

/** The plain-data part of a segment plan: `a` is at `t = 0`, `b` at `t = 1`. */
export interface SegmentDescription {
  readonly kind: "segment";
  /** `|b - a|`: the distance between the two ends. */
  readonly length: number;
  readonly points: readonly LinePoint[];
}

/** The plain-data part of a plane plan: anchors' coordinates, grid axes, points (row-major). */
export interface PlaneDescription {
  readonly kind: "plane";
  /** Coordinates of `w1`, `w2`, `w3` in the `(u, v)` basis: `w1` is at `[0, 0]`, `w2` at `[|w2 - w1|, 0]`. */
  readonly anchors: readonly [
    readonly [number, number],
    readonly [number, number],
    readonly [number, number],
  ];
  /** The grid's x values (columns) and y values (rows), increasing. */
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  /** `ys.length * xs.length` points, index `row * xs.length + col`. */
  readonly points: readonly PlanePoint[];
}

/** The plain-data description of any plan. */
export type PlanDescription = RayDescription | SegmentDescription | PlaneDescription;

/** `w(t) = center + t * direction`; the plan owns its copies of `center` and `direction`. */
export interface RayPlan extends RayDescription {
  readonly center: Weights;
  readonly direction: Weights;
}

/** `w(t) = a + t * (b - a) = (1 - t) a + t b`; the plan owns its copies of `a` and `b`. */
export interface SegmentPlan extends SegmentDescription {
  readonly a: Weights;
  readonly b: Weights;
}

/** `P(x, y) = w1 + x u + y v`; the plan owns `origin` (a copy of `w1`) and the unit basis `u`, `v`. */
export interface PlanePlan extends PlaneDescription {
  readonly origin: Weights;
  readonly u: Weights;
  readonly v: Weights;
}

/** A ray, a segment or a plane to evaluate. */
export type Plan = RayPlan | SegmentPlan | PlanePlan;

/** Options of {@link planeThrough}. */
export interface PlaneOptions {
  /** Points per axis: `n` for an `n x n` grid or `[nx, ny]`. Default 21 (the authors'). */
  readonly grid?: number | readonly [number, number];
  /**
   * Margin around the three points, relative to their extent on each axis: the grid spans
   * `[min - margin * (max - min), max + margin * (max - min)]`. Default 0.2 (the authors').
   */
  readonly margin?: number;
}

// -------------------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------------------

const copy = (w: Weights): Weights => map(w, (t) => tf.clone(t));

/** Throws a `config` error unless `values` is a non-empty list of finite numbers (an option in code). */
const checkNumbers = (field: string, values: readonly number[]): void => {
  if (values.length === 0) {
    fail("config", `${field} is empty: give at least one number`, {
      path: field,
      value: values,
      fix: "at least one finite number",
    });
  }
  const i = values.findIndex((x) => !Number.isFinite(x));
  if (i >= 0) {
    fail("config", `${field}[${i}] is ${values[i]}: every entry must be a finite number`, {
      path: `${field}[${i}]`,
      value: values[i],
      fix: "a finite number",
    });
  }
};

/**
 * A ray from `center` along `direction`: point `i` is `center + distances[i] * direction`, and its
 * reported `distance` is `distances[i] * |direction|` (the same numbers when `direction` is a unit
 * vector, as `randomDirection` gives). Negative values go the other way. Left on mismatched
 * weights; throws on empty or non-finite distances. Free the plan with {@link disposePlan}.
 *
 * @example
 * const plan = rayFrom(wSwa, randomDirection(wSwa, 0), linspace(-60, 60, 31));
 */
export const rayFrom = (
  center: Weights,
  direction: Weights,
  distances: readonly number[],
): E.Either<GeometryError, RayPlan> => {
  const checked = checkSameStructure(center, direction, ["center", "direction"]);
  if (E.isLeft(checked)) return checked;
  checkNumbers("distances", distances);
  const directionNorm = norm(direction);
  if (!(directionNorm > 0)) {
    return E.left(
      geometryError("degenerate", "direction has norm 0: pass a non-zero direction", {
        path: "direction",
        fix: "a non-zero direction",
      }),
    );
  }
  return E.right({
    kind: "ray",
    directionNorm,
    points: distances.map((t, index) => ({ index, t, distance: t * directionNorm })),
    center: copy(center),
    direction: copy(direction),
  });
};

/**
 * The line through `a` (`t = 0`) and `b` (`t = 1`): point `i` is `(1 - ts[i]) a + ts[i] b`, with
 * `ts` allowed beyond `[0, 1]`; the signed `distance` is `ts[i] * |b - a|`, measured from `a`
 * towards `b`. For the paper's `w(t) = t w_sgd + (1 - t) w_swa`, call `segment(wSwa, wSgd, ts)`:
 * distance 0 is SWA and positive distances go towards SGD. Free the plan with {@link disposePlan}.
 */
export const segment = (
  a: Weights,
  b: Weights,
  ts: readonly number[],
): E.Either<GeometryError, SegmentPlan> => {
  const checked = checkSameStructure(a, b, ["a", "b"]);
  if (E.isLeft(checked)) return checked;
  checkNumbers("ts", ts);
  const diff = sub(b, a);
  const length = norm(diff);
  disposeWeights(diff);
  return E.right({
    kind: "segment",
    length,
    points: ts.map((t, index) => ({ index, t, distance: t * length })),
    a: copy(a),
    b: copy(b),
  });
};

/** `n` evenly spaced numbers from `start` to `stop` inclusive (`n >= 2`; `[start]` when `n === 1`). */
export const linspace = (start: number, stop: number, n: number): number[] =>
  n === 1
    ? [start]
    : Array.from({ length: n }, (_, i) =>
        i === n - 1 ? stop : start + ((stop - start) * i) / (n - 1),
      );

/**
 * The plane through `w1`, `w2`, `w3` with the Gram–Schmidt basis of REFERENCE §4:
 * `u = (w2 - w1) / |w2 - w1|`, `v = w3 - w1 - <w3 - w1, u> u` normalised; grid point
 * `P(x, y) = w1 + x u + y v`. The anchors' coordinates are `w1: [0, 0]`, `w2: [|w2 - w1|, 0]`,
 * `w3: [<w3 - w1, u>, |v before normalising|]`. The grid (default 21 x 21) spans the three points'
 * bounding box widened by `margin` (default 0.2) times its extent on each side; when `w3` projects
 * between `w1` and `w2` this is the authors' `[-0.2, 1.2] |w2 - w1|` by `[-0.2, 1.2] y3`.
 * Left when the points are (numerically) collinear or mismatched. Free with {@link disposePlan}.
 */
export const planeThrough = (
  w1: Weights,
  w2: Weights,
  w3: Weights,
  options: PlaneOptions = {},
): E.Either<GeometryError, PlanePlan> => {
  const c2 = checkSameStructure(w1, w2, ["w1", "w2"]);
  if (E.isLeft(c2)) return c2;
  const c3 = checkSameStructure(w1, w3, ["w1", "w3"]);
  if (E.isLeft(c3)) return c3;
  const grid = options.grid ?? 21;
  const [nx, ny] = typeof grid === "number" ? [grid, grid] : grid;
  if (![nx, ny].every((n) => Number.isInteger(n) && n >= 2)) {
    fail("config", `grid is ${JSON.stringify(grid)}: give an integer >= 2 or a pair of them`, {
      path: "grid",
      value: grid,
      fix: "an integer >= 2 or a pair of them",
    });
  }
  const margin = options.margin ?? 0.2;
  if (!(Number.isFinite(margin) && margin >= 0)) {
    fail("config", `margin is ${margin}: give a finite number >= 0 (e.g. 0.2)`, {
      path: "margin",
      value: margin,
      fix: "a finite number >= 0 (e.g. 0.2)",
    });
  }
  const e1 = sub(w2, w1);
  const dx = norm(e1);
  const e3 = sub(w3, w1);
  const n3 = norm(e3);
  const degenerate = (msg: string) => {
    disposeWeights(e1);
    disposeWeights(e3);
    return E.left(geometryError("degenerate", msg));
  };
  if (!(dx > 0))
    return degenerate("w1 and w2 are the same point: a plane needs three distinct points");
  const u = map(e1, (t) => tf.div(t, dx));
  const x3 = dot(e3, u);
  const vRaw = map(e3, (t, k) => tf.tidy(() => tf.sub(t, tf.mul(u[k]!, x3))));
  const y3 = norm(vRaw);
  if (!(y3 > 1e-6 * Math.max(dx, n3))) {
    disposeWeights(u);
    disposeWeights(vRaw);
    return degenerate(
      `w3 lies on the line through w1 and w2 (its distance to it is ${y3}): pass three points not on one line`,
    );
  }
  const v = map(vRaw, (t) => tf.div(t, y3));
  disposeWeights(vRaw);
  disposeWeights(e1);
  disposeWeights(e3);
  const anchors = [
    [0, 0],
    [dx, 0],
    [x3, y3],
  ] as const;
  const axis = (values: readonly number[], n: number): number[] => {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const pad = margin * (hi - lo);
    return linspace(lo - pad, hi + pad, n);
  };
  const xs = axis([0, dx, x3], nx);
  const ys = axis([0, y3], ny);
  const points: PlanePoint[] = [];
  for (const [row, y] of ys.entries()) {
    for (const [col, x] of xs.entries()) points.push({ index: points.length, row, col, x, y });
  }
  return E.right({ kind: "plane", anchors, xs, ys, points, origin: copy(w1), u, v });
};

// -------------------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------------------

/**
 * The weights of point `index` of `plan`, made now; the caller owns them (free with
 * `disposeWeights`). Throws a `config` GeometryError for an index outside the plan (a programmer's mistake).
 */
export const pointWeights = (plan: Plan, index: number): Weights => {
  const p = plan.points[index];
  if (p === undefined || !Number.isInteger(index)) {
    fail("config", `point index ${index} is outside the plan's 0..${plan.points.length - 1}`, {
      path: "index",
      value: index,
      fix: `an integer in 0..${plan.points.length - 1}`,
    });
  }
  switch (plan.kind) {
    case "ray": {
      const { t } = p as LinePoint;
      return map(plan.center, (c, k) => tf.tidy(() => tf.add(c, tf.mul(plan.direction[k]!, t))));
    }
    case "segment": {
      const { t } = p as LinePoint;
      return map(plan.a, (a, k) => tf.tidy(() => tf.add(tf.mul(a, 1 - t), tf.mul(plan.b[k]!, t))));
    }
    case "plane": {
      const { x, y } = p as PlanePoint;
      return map(plan.origin, (o, k) =>
        tf.tidy(() => tf.add(o, tf.add(tf.mul(plan.u[k]!, x), tf.mul(plan.v[k]!, y)))),
      );
    }
  }
};

/** Yields `{ point, weights }` for each point in order; each `weights` is freed when the next is asked for. */
export function* planWeights(plan: Plan): Generator<{ point: PlanPoint; weights: Weights }> {
  for (const point of plan.points) {
    const weights = pointWeights(plan, point.index);
    try {
      yield { point, weights };
    } finally {
      disposeWeights(weights);
    }
  }
}

/** The plain-data description of `plan` (no tensors), as stored in result files. */
export const describePlan = (plan: Plan): PlanDescription => {
  switch (plan.kind) {
    case "ray":
      return { kind: "ray", directionNorm: plan.directionNorm, points: plan.points };
    case "segment":
      return { kind: "segment", length: plan.length, points: plan.points };
    case "plane":
      return {
        kind: "plane",
        anchors: plan.anchors,
        xs: plan.xs,
        ys: plan.ys,
        points: plan.points,
      };
  }
};

/** The tensors the plan owns, by role (`center`/`direction`, `a`/`b`, `origin`/`u`/`v`). */
export const planTensors = (plan: Plan): Readonly<Record<string, Weights>> => {
  switch (plan.kind) {
    case "ray":
      return { center: plan.center, direction: plan.direction };
    case "segment":
      return { a: plan.a, b: plan.b };
    case "plane":
      return { origin: plan.origin, u: plan.u, v: plan.v };
  }
};

/** Frees the tensors `plan` owns; the plan's weights cannot be made afterwards. */
export const disposePlan = (plan: Plan): void => {
  for (const w of Object.values(planTensors(plan))) disposeWeights(w);
};
