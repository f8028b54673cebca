/**
 * Plots of evaluated plans, as Vega / Vega-Lite specifications and SVG strings: line plots along
 * rays (each ray thin, the mean bold) and segments, and filled-contour plots of planes with the
 * three anchor points marked, with the authors' log-spaced contour levels.
 *
 * @module
 */

import type * as vega from "vega";
import type * as vl from "vega-lite";
import { scheme } from "vega-scale";
import { fail } from "./errors.js";
import type { LinePoint, PlaneDescription, PlanePoint } from "./plans.js";
import type { Projection } from "./projection.js";
import { renderVegaLiteToSvg, renderVegaToSvg } from "./render.js";
import type { PlanResults } from "./results.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** How one metric is drawn: its key in the results, axis title, and scaling. */
export interface MetricAxis {
  /** The metric key, e.g. `"trainLoss"` or `"testError"`. */
  readonly metric: string;
  /** Axis title. Default: the metric key (with " (%)" when `percent`). */
  readonly title?: string;
  /** Multiply values by 100 (for error rates stored as fractions). Default false. */
  readonly percent?: boolean;
  /** Log-scaled y axis. Default false. */
  readonly logY?: boolean;
}

/** A group of rays drawn in one color (e.g. `{ label: "SWA", rays }`). */
export interface RayGroup {
  readonly label: string;
  readonly rays: readonly PlanResults[];
}

/** Common layout options. */
export interface PlotLayout {
  readonly title?: string;
  /** Plot area size in pixels. Defaults 480 x 320 (lines) and 420 x 420 (planes). */
  readonly width?: number;
  readonly height?: number;
}

/** Options of {@link planeContourSpec}. */
export interface PlaneContourOptions extends PlotLayout {
  /** The metric to draw, e.g. `"trainLoss"`. */
  readonly metric: string;
  /** Multiply values by 100 before capping (error stored as a fraction). Default false. */
  readonly percent?: boolean;
  /** Values above `cap` are drawn as `cap` (authors: train loss 5, test error 40 %). Default: no cap. */
  readonly cap?: number;
  /** Labels of `w1`, `w2`, `w3`. Default `["w1", "w2", "w3"]`. */
  readonly labels?: readonly [string, string, string];
  /** Number of contour bands `N` (authors: 7). */
  readonly levels?: number;
  /** Log of the first level's offset above the minimum (authors: -5). */
  readonly logAlpha?: number;
  /** A Vega color scheme, reversed (low values take its upper end), sampled on [0.1, 0.95]. Default `"turbo"`. */
  readonly scheme?: string;
}

// -------------------------------------------------------------------------------------------------
// line plots
// -------------------------------------------------------------------------------------------------

const VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

const scaled = (v: number | null | undefined, percent: boolean | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : percent ? 100 * v : v;

const axisTitle = (m: MetricAxis): string => m.title ?? (m.percent ? `${m.metric} (%)` : m.metric);

const lineResults = (
  r: PlanResults,
): readonly (LinePoint & { metrics: PlanResults["results"][number]["metrics"] })[] => {
  if (r.plan.kind === "plane")
    fail("config", "a line plot needs rays' or segments' results, not a plane's", {
      path: "results",
      fix: "pass the results of a ray or a segment",
    });
  return r.results as readonly (LinePoint & {
    metrics: PlanResults["results"][number]["metrics"];
  })[];
};

/**
 * The mean profile of a group of rays: points with the same coefficient `t` are averaged (their
 * distances `t * |d|` differ in the last float32 bits between rays), over the rays with a finite
 * value there.
 */
const meanProfile = (
  rays: readonly PlanResults[],
  axis: MetricAxis,
): { distance: number; value: number }[] => {
  const sums = new Map<number, { d: number; s: number; n: number }>();
  for (const ray of rays) {
    for (const p of lineResults(ray)) {
      const v = scaled(p.metrics[axis.metric], axis.percent);
      if (v === null) continue;
      const e = sums.get(p.t) ?? { d: 0, s: 0, n: 0 };
      sums.set(p.t, { d: e.d + p.distance, s: e.s + v, n: e.n + 1 });
    }
  }
  return [...sums.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, { d, s, n }]) => ({ distance: d / n, value: s / n }));
};

/**
 * A Vega-Lite line plot of `axis.metric` against distance along rays: every ray a thin, faint
 * line, each group's mean (over its rays, per distance) a bold line, one color per group.
 */
export const rayPlotSpec = (
  groups: readonly RayGroup[],
  axis: MetricAxis,
  layout: PlotLayout = {},
): vl.TopLevelSpec => {
  const rays: Record<string, unknown>[] = [];
  const means: Record<string, unknown>[] = [];
  for (const g of groups) {
    g.rays.forEach((ray, i) => {
      for (const p of lineResults(ray)) {
        const value = scaled(p.metrics[axis.metric], axis.percent);
        if (value !== null)
          rays.push({ group: g.label, ray: `${g.label} #${i}`, distance: p.distance, value });
      }
    });
    for (const m of meanProfile(g.rays, axis)) means.push({ group: g.label, ...m });
  }
  const x = { field: "distance", type: "quantitative", title: "distance" } as const;
  const y = {
    field: "value",
    type: "quantitative",
    title: axisTitle(axis),
    scale: axis.logY ? { type: "log" } : { zero: false },
  } as const;
  const color = {
    field: "group",
    type: "nominal",
    title: null,
    scale: {
      domain: groups.map((g) => g.label),
      range: PALETTE.slice(0, Math.max(groups.length, 1)),
    },
  } as const;
  return {
    $schema: VL_SCHEMA,
    ...(layout.title === undefined ? {} : { title: layout.title }),
    width: layout.width ?? 480,
    height: layout.height ?? 320,
    layer: [
      {
        data: { values: rays },
        mark: { type: "line", strokeWidth: 1, opacity: 0.35, clip: true },
        encoding: { x, y, color, detail: { field: "ray", type: "nominal" } },
      },
      {
        data: { values: means },
        mark: { type: "line", strokeWidth: 3.5, clip: true },
        encoding: { x, y, color },
      },
    ],
  } as vl.TopLevelSpec;
};

/** {@link rayPlotSpec} rendered to an SVG string. */
export const rayPlotSvg = (
  groups: readonly RayGroup[],
  axis: MetricAxis,
  layout: PlotLayout = {},
): Promise<string> => renderVegaLiteToSvg(rayPlotSpec(groups, axis, layout));

/** Options of {@link segmentPlotSpec}. */
export interface SegmentPlotOptions extends PlotLayout {
  /** Labels of the `t = 0` and `t = 1` ends, marked by vertical rules. Default `["a", "b"]`. */
  readonly endLabels?: readonly [string, string];
}

/**
 * A Vega-Lite line plot of one or two metrics against signed distance along a segment (two
 * metrics get independent left and right axes, as in the paper's SWA–SGD figure), with the two
 * ends marked. Distance 0 is the segment's `a` (`t = 0`), `length` is `b`.
 */
export const segmentPlotSpec = (
  results: PlanResults,
  axes: readonly [MetricAxis] | readonly [MetricAxis, MetricAxis],
  options: SegmentPlotOptions = {},
): vl.TopLevelSpec => {
  if (results.plan.kind !== "segment")
    fail("config", "segmentPlotSpec needs a segment's results", {
      path: "results",
      fix: "pass the results of a segment",
    });
  const length = results.plan.length;
  const [la, lb] = options.endLabels ?? ["a", "b"];
  const points = lineResults(results);
  const layers = axes.map((axis, k) => ({
    data: {
      values: points
        .map((p) => ({
          distance: p.distance,
          value: scaled(p.metrics[axis.metric], axis.percent),
        }))
        .filter((r) => r.value !== null),
    },
    mark: {
      type: "line",
      strokeWidth: 2.5,
      point: { color: PALETTE[k] },
      color: PALETTE[k],
      clip: true,
    },
    encoding: {
      x: { field: "distance", type: "quantitative", title: "signed distance" },
      y: {
        field: "value",
        type: "quantitative",
        title: axisTitle(axis),
        scale: axis.logY ? { type: "log" } : { zero: false },
        axis: { orient: k === 0 ? "left" : "right", titleColor: PALETTE[k] },
      },
    },
  }));
  const ends = {
    data: {
      values: [
        { distance: 0, label: la },
        { distance: length, label: lb },
      ],
    },
    layer: [
      {
        mark: { type: "rule", strokeDash: [4, 4], color: "#555" },
        encoding: { x: { field: "distance", type: "quantitative" } },
      },
      {
        mark: { type: "text", dy: -6, fontWeight: "bold", baseline: "bottom" },
        encoding: {
          x: { field: "distance", type: "quantitative" },
          y: { value: 0 },
          text: { field: "label" },
        },
      },
    ],
  };
  return {
    $schema: VL_SCHEMA,
    ...(options.title === undefined ? {} : { title: options.title }),
    width: options.width ?? 480,
    height: options.height ?? 320,
    layer: [...layers, ends],
    resolve: { scale: { y: "independent" } },
  } as vl.TopLevelSpec;
};

/** {@link segmentPlotSpec} rendered to an SVG string. */
export const segmentPlotSvg = (
  results: PlanResults,
  axes: readonly [MetricAxis] | readonly [MetricAxis, MetricAxis],
  options: SegmentPlotOptions = {},
): Promise<string> => renderVegaLiteToSvg(segmentPlotSpec(results, axes, options));

// -------------------------------------------------------------------------------------------------
// plane plots
// -------------------------------------------------------------------------------------------------

/**
 * The authors' contour levels (SWA / mode-connectivity plane plots): with `m`, `M` the min and max
 * of the (capped) values, `levels[k] = m + exp(logAlpha + k * (log(M - m) - logAlpha) / N)` for
 * `k = 0..N`, then `levels[0] = m` and `levels[N] = M`: dense near the minimum, log-spaced above it.
 * Their formula needs `M - m > exp(logAlpha)`; when `M - m < exp(logAlpha + 3)` we lower `logAlpha`
 * to `log(M - m) - 3` so that the levels still increase (the authors' code would fail there).
 */
export const contourLevels = (min: number, max: number, n = 7, logAlpha = -5): number[] => {
  if (!(max > min)) return [min];
  const alpha = Math.min(logAlpha, Math.log(max - min) - 3);
  const logGamma = (Math.log(max - min) - alpha) / n;
  const levels = Array.from({ length: n + 1 }, (_, k) => min + Math.exp(alpha + logGamma * k));
  levels[0] = min;
  levels[n] = max;
  return levels;
};

/** Labels `≥ level` with the fewest significant digits (3 to 8) that keep them all distinct. */
const levelLabels = (levels: readonly number[]): string[] => {
  for (let digits = 3; digits <= 8; digits++) {
    const labels = levels.map((v) => `≥ ${Number(v.toPrecision(digits))}`);
    if (new Set(labels).size === labels.length) return labels;
  }
  return levels.map((v, k) => `≥ ${v} (${k})`);
};

/**
 * A Vega specification of a plane's results: filled contours (Vega `isocontour` transform over the
 * grid, drawn as `shape` marks) at the authors' log-spaced levels, contour lines, and the three
 * anchors marked and labelled. Values above `cap` are drawn at `cap`; a non-finite value counts as
 * the cap (or the largest finite value without one). Throws if the results are incomplete.
 */
export const planeContourSpec = (results: PlanResults, options: PlaneContourOptions): vega.Spec => {
  if (results.plan.kind !== "plane")
    fail("config", "planeContourSpec needs a plane's results", {
      path: "results",
      fix: "pass the results of a plane",
    });
  const plan: PlaneDescription = results.plan;
  const { xs, ys } = plan;
  const nx = xs.length;
  const ny = ys.length;
  if (results.results.length !== nx * ny) {
    fail(
      "shape",
      `the plane has ${nx * ny} points but ${results.results.length} results: finish (resume) the evaluation first`,
      {
        path: "results",
        value: results.results.length,
        fix: "finish (resume) the evaluation first",
      },
    );
  }
  const raw = new Array<number | null>(nx * ny).fill(null);
  for (const r of results.results as readonly (PlanePoint & {
    metrics: Record<string, number | null>;
  })[]) {
    if (!(options.metric in r.metrics)) {
      fail(
        "config",
        `metric "${options.metric}" is not in the results (they have ${Object.keys(r.metrics).join(", ")})`,
        {
          path: "metric",
          value: options.metric,
          fix: `one of ${Object.keys(r.metrics).join(", ")}`,
        },
      );
    }
    raw[r.row * nx + r.col] = scaled(r.metrics[options.metric], options.percent);
  }
  const finite = raw.filter((v): v is number => v !== null);
  const top = options.cap ?? Math.max(...finite);
  const values = raw.map((v) => (v === null ? top : Math.min(v, top)));
  const min = Math.min(...values);
  const max = Math.max(...values);
  const levels = contourLevels(min, max, options.levels ?? 7, options.logAlpha ?? -5);
  const interp = scheme(options.scheme ?? "turbo") as ((t: number) => string) | undefined;
  if (typeof interp !== "function")
    fail("config", `unknown Vega color scheme "${options.scheme}"`, {
      path: "scheme",
      value: options.scheme,
      fix: 'a Vega color scheme name, e.g. "viridis"',
    });
  const n = Math.max(levels.length - 1, 1);
  // Reversed and trimmed (0.1..0.95) so the ends are blue and dark red rather than near-black,
  // as the authors' `jet_r`: low values red, high values blue.
  const colors = levels.map((_, k) => interp(0.1 + 0.85 * (1 - k / n)));
  const width = options.width ?? 420;
  const height = options.height ?? 420;
  const dx = nx > 1 ? xs[1]! - xs[0]! : 1;
  const dy = ny > 1 ? ys[1]! - ys[0]! : 1;
  const [l1, l2, l3] = options.labels ?? ["w1", "w2", "w3"];
  const anchors = plan.anchors.map(([x, y], i) => ({ x, y, label: [l1, l2, l3][i] }));
  const legendLabels = levelLabels(levels);
  const title = options.title ?? (options.percent ? `${options.metric} (%)` : options.metric);
  return {
    $schema: "https://vega.github.io/schema/vega/v5.json",
    width,
    height,
    padding: 5,
    autosize: "pad",
    title: { text: title },
    data: [
      {
        name: "grid",
        // d3-contour places value i at grid coordinate i + 0.5; the x/y scales below span whole
        // cells, so grid coordinate g maps to g * width / nx pixels (y flipped: row 0 is ys[0]).
        values: [
          {
            width: nx,
            height: ny,
            values,
            scale: [width / nx, -height / ny],
            translate: [0, height],
          },
        ],
        transform: [{ type: "isocontour", thresholds: levels, smooth: true }],
      },
      { name: "anchors", values: anchors },
      { name: "levels", values: levels.map((value, k) => ({ value, k, label: legendLabels[k] })) },
    ],
    projections: [{ name: "identity", type: "identity" }],
    scales: [
      {
        name: "x",
        type: "linear",
        domain: [xs[0]! - dx / 2, xs[nx - 1]! + dx / 2],
        range: "width",
        zero: false,
        nice: false,
      },
      {
        name: "y",
        type: "linear",
        domain: [ys[0]! - dy / 2, ys[ny - 1]! + dy / 2],
        range: "height",
        zero: false,
        nice: false,
      },
      { name: "fill", type: "ordinal", domain: levels, range: colors },
      { name: "legend", type: "ordinal", domain: legendLabels, range: colors },
    ],
    axes: [
      { orient: "bottom", scale: "x", title: "u", grid: false },
      { orient: "left", scale: "y", title: "v", grid: false },
    ],
    legends: [{ fill: "legend", title, symbolType: "square", symbolOpacity: 0.8 }],
    marks: [
      {
        type: "shape",
        name: "bands",
        from: { data: "grid" },
        clip: true,
        encode: {
          enter: {
            fill: { scale: "fill", field: "contour.value" },
            fillOpacity: { value: 0.55 },
            stroke: { scale: "fill", field: "contour.value" },
            strokeWidth: { value: 1.5 },
          },
        },
        transform: [{ type: "geoshape", field: "datum.contour", projection: "identity" }],
      },
      {
        type: "symbol",
        name: "anchorPoints",
        from: { data: "anchors" },
        encode: {
          enter: {
            x: { scale: "x", field: "x" },
            y: { scale: "y", field: "y" },
            shape: { value: "circle" },
            size: { value: 90 },
            fill: { value: "white" },
            stroke: { value: "black" },
            strokeWidth: { value: 2 },
          },
        },
      },
      {
        type: "text",
        name: "anchorLabels",
        from: { data: "anchors" },
        encode: {
          enter: {
            x: { scale: "x", field: "x" },
            y: { scale: "y", field: "y" },
            dx: { value: 8 },
            dy: { value: -8 },
            text: { field: "label" },
            fontSize: { value: 14 },
            fontWeight: { value: "bold" },
            fill: { value: "black" },
          },
        },
      },
    ],
  } as vega.Spec;
};

/**
 * {@link planeContourSpec} rendered to an SVG string.
 *
 * @example
 * await planeContourSvg(results, { metric: "trainLoss", cap: 5, labels: ["SWA", "SGD 1", "SGD 2"] });
 * await planeContourSvg(results, { metric: "testError", percent: true, cap: 40 });
 */
export const planeContourSvg = (
  results: PlanResults,
  options: PlaneContourOptions,
): Promise<string> => renderVegaToSvg(planeContourSpec(results, options));

// -------------------------------------------------------------------------------------------------
// trajectories on a plane
// -------------------------------------------------------------------------------------------------

/** A point of a trajectory in a plane's coordinates (a {@link Projection} fits), optionally labelled. */
export interface TrajectoryPoint {
  readonly x: number;
  readonly y: number;
  readonly label?: string;
}

/** Options of {@link planeTrajectorySpec}: the contour's options plus the trajectory's color. */
export interface PlaneTrajectoryOptions extends PlaneContourOptions {
  /** Stroke and fill of the trajectory. Default `"black"`. */
  readonly trajectoryColor?: string;
}

/**
 * The plane's contour plot ({@link planeContourSpec}: filled contours, marked and labelled anchors)
 * with a trajectory drawn on it: the points connected in the given order by a line, each point a
 * dot, and the points with a `label` labelled. Give the points in the plane's coordinates, e.g.
 * from `projectAllOnto(plane, snapshots)` (`Projection` has `x`, `y`). Points outside the grid are
 * clipped (widen the plane's `margin` to show them). Throws on a non-finite coordinate or an
 * empty trajectory (programmer mistakes), and as {@link planeContourSpec} does.
 *
 * @example
 * const path = projectAllOnto(plane, snapshots); // Right([{ x, y, residual }, ...])
 * const svg = await planeTrajectorySvg(results, path.right.map((p, i) => ({ ...p, label: `epoch ${i}` })), { metric: "trainLoss", cap: 5 });
 */
export const planeTrajectorySpec = (
  results: PlanResults,
  trajectory: readonly (TrajectoryPoint | Projection)[],
  options: PlaneTrajectoryOptions,
): vega.Spec => {
  if (trajectory.length === 0) {
    fail("config", "the trajectory is empty: give at least one point ({ x, y })", {
      path: "trajectory",
      fix: "at least one point ({ x, y })",
    });
  }
  const bad = trajectory.findIndex((p) => !(Number.isFinite(p.x) && Number.isFinite(p.y)));
  if (bad >= 0) {
    const p = trajectory[bad]!;
    fail(
      "config",
      `trajectory[${bad}] is at (${p.x}, ${p.y}): every point needs finite plane coordinates`,
      { path: `trajectory[${bad}]`, value: p, fix: "finite plane coordinates" },
    );
  }
  const base = planeContourSpec(results, options) as vega.Spec & {
    data: vega.Data[];
    marks: vega.Mark[];
  };
  const color = options.trajectoryColor ?? "black";
  const values = trajectory.map((p, order) => ({
    order,
    x: p.x,
    y: p.y,
    label: "label" in p && p.label !== undefined ? p.label : "",
  }));
  const xy = { x: { scale: "x", field: "x" }, y: { scale: "y", field: "y" } };
  const marks: vega.Mark[] = [
    {
      type: "line",
      name: "trajectoryLine",
      from: { data: "trajectory" },
      clip: true,
      sort: { field: "datum.order" },
      encode: {
        enter: { ...xy, stroke: { value: color }, strokeWidth: { value: 2 } },
      },
    },
    {
      type: "symbol",
      name: "trajectoryPoints",
      from: { data: "trajectory" },
      clip: true,
      encode: {
        enter: {
          ...xy,
          shape: { value: "circle" },
          size: { value: 36 },
          fill: { value: color },
          stroke: { value: "white" },
          strokeWidth: { value: 1 },
        },
      },
    },
    {
      type: "text",
      name: "trajectoryLabels",
      from: { data: "trajectory" },
      clip: true,
      encode: {
        enter: {
          ...xy,
          dx: { value: 6 },
          dy: { value: 14 },
          text: { field: "label" },
          fontSize: { value: 11 },
          fill: { value: color },
        },
      },
    },
  ] as vega.Mark[];
  // Above the contours, below the anchors (which stay on top).
  const anchorsAt = base.marks.findIndex((m) => m.name === "anchorPoints");
  return {
    ...base,
    data: [...base.data, { name: "trajectory", values }],
    marks: [...base.marks.slice(0, anchorsAt), ...marks, ...base.marks.slice(anchorsAt)],
  } as vega.Spec;
};

/**
 * {@link planeTrajectorySpec} rendered to an SVG string.
 *
 * @example
 * await planeTrajectorySvg(results, projections, { metric: "trainLoss", cap: 5, labels: ["SWA", "SGD 1", "SGD 2"] });
 */
export const planeTrajectorySvg = (
  results: PlanResults,
  trajectory: readonly (TrajectoryPoint | Projection)[],
  options: PlaneTrajectoryOptions,
): Promise<string> => renderVegaToSvg(planeTrajectorySpec(results, trajectory, options));
