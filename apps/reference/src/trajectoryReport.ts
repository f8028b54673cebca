/**
 * The trajectory analysis in `report.html`: the curves of both rates (the paper's Figure 3), the
 * plane's train-loss and test-error contours with both runs' proposals, their SWA averages and
 * the pretrained point (Figure 1), a table of every point's coordinates and distance from the
 * plane, and the three findings of section 3.1, each with one sentence on what it shows.
 *
 * @module
 */
import {
  planeTrajectorySpec,
  renderVegaLiteToSvg,
  renderVegaToSvg,
  type TrajectoryPoint,
} from "@wider/geometry";
import type { TopLevelSpec } from "vega-lite";
import { findingLines } from "./trajectoryFindings.js";
import type { PlanePoint, TrajectoryPlane, TrajectoryResult } from "./trajectoryPlane.js";

/** Vega's types, as `@wider/geometry` uses them (the app does not depend on vega itself). */
type Spec = ReturnType<typeof planeTrajectorySpec>;
type Mark = { readonly name?: string; readonly [k: string]: unknown };
type Data = { readonly name: string; readonly [k: string]: unknown };
type Composed = { data: Data[]; marks: Mark[] };

const COLORS = { cyclical: "#1f4e9c", constant: "#c2410c", swa: "#111111" } as const;

/** Test error (%) of every proposal and of the running SWA average per rate, by epoch. */
export const trajectoryCurvesSpec = (t: TrajectoryResult): TopLevelSpec =>
  ({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: 520,
    height: 240,
    title: "Test error of the proposals and of the running SWA average",
    data: {
      values: [t.runs.cyclical, t.runs.constant].flatMap((r) =>
        r.epochs.flatMap((epoch, k) => [
          { epoch, rate: r.rate, series: "proposal", value: 100 * (r.proposalErrors[k] ?? 0) },
          { epoch, rate: r.rate, series: "SWA average", value: 100 * (r.swaErrors[k] ?? 0) },
        ]),
      ),
    },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: { field: "value", type: "quantitative", title: "test error (%)", scale: { zero: false } },
      color: {
        field: "rate",
        type: "nominal",
        scale: { domain: ["cyclical", "constant"], range: [COLORS.cyclical, COLORS.constant] },
      },
      strokeDash: {
        field: "series",
        type: "nominal",
        scale: {
          domain: ["proposal", "SWA average"],
          range: [
            [1, 0],
            [6, 3],
          ],
        },
      },
      detail: { field: "series" },
    },
  }) as TopLevelSpec;

/** A run's path on the plane: the pretrained point, then its proposals in order. */
const path = (plane: TrajectoryPlane, run: "cyclical" | "constant"): TrajectoryPoint[] => {
  const start = plane.points.find((p) => p.kind === "pretrained");
  const props = plane.points.filter((p) => p.run === run && p.kind === "proposal");
  return [
    ...(start === undefined ? [] : [{ x: start.x, y: start.y, label: "start" }]),
    ...props.map((p) => ({ x: p.x, y: p.y, label: String(p.index + 1) })),
  ];
};

/**
 * The plane's contours of `metric` with both runs' paths (cyclical and constant, from the
 * pretrained point) and both SWA averages (diamonds), the anchors marked on top.
 */
export const trajectoryPlaneSpec = (
  plane: TrajectoryPlane,
  axis: { metric: "trainLoss" | "testError"; title: string; cap: number; percent?: boolean },
): Spec => {
  const options = {
    metric: axis.metric,
    cap: axis.cap,
    ...(axis.percent === true ? { percent: true } : {}),
    labels: plane.anchors,
    title: axis.title,
  };
  const base = planeTrajectorySpec(plane.results, path(plane, "cyclical"), {
    ...options,
    trajectoryColor: COLORS.cyclical,
  }) as unknown as Composed;
  // The constant run: the same marks as the cyclical trajectory, on its own data, in its color.
  const other = planeTrajectorySpec(plane.results, path(plane, "constant"), {
    ...options,
    trajectoryColor: COLORS.constant,
  }) as unknown as Composed;
  const rename = (m: Mark): Mark => ({
    ...m,
    name: `${m.name}Constant`,
    from: { data: "trajectoryConstant" },
  });
  const constantMarks = other.marks
    .filter((m) => m.name?.startsWith("trajectory") === true)
    .map(rename);
  const swa = plane.points
    .filter((p) => p.kind === "swa")
    .map((p) => ({ x: p.x, y: p.y, label: p.label }));
  const xy = { x: { scale: "x", field: "x" }, y: { scale: "y", field: "y" } };
  const swaMarks = [
    {
      type: "symbol",
      name: "swaSymbols",
      from: { data: "swaAverages" },
      clip: true,
      encode: {
        enter: {
          ...xy,
          shape: { value: "diamond" },
          size: { value: 120 },
          fill: { value: COLORS.swa },
          stroke: { value: "white" },
          strokeWidth: { value: 1.5 },
        },
      },
    },
    {
      type: "text",
      name: "swaLabels",
      from: { data: "swaAverages" },
      clip: true,
      encode: {
        enter: { ...xy, dx: { value: 8 }, dy: { value: -8 }, text: { field: "label" } },
      },
    },
  ] as Mark[];
  const constantData = other.data.find((d) => d.name === "trajectory");
  const anchorsAt = base.marks.findIndex((m) => m.name === "anchorPoints");
  return {
    ...base,
    data: [
      ...base.data,
      { ...(constantData as Data), name: "trajectoryConstant" },
      { name: "swaAverages", values: swa },
    ],
    marks: [
      ...base.marks.slice(0, anchorsAt),
      ...constantMarks,
      ...swaMarks,
      ...base.marks.slice(anchorsAt),
    ],
  } as unknown as Spec;
};

/** The trajectory section's plots as SVG strings, by figure name. */
export const trajectorySvgs = async (t: TrajectoryResult): Promise<Record<string, string>> => {
  const out: Record<string, string> = {
    trajectoryCurves: await renderVegaLiteToSvg(trajectoryCurvesSpec(t)),
  };
  if (t.plane !== null) {
    out.trajectoryPlane = await renderVegaToSvg(
      trajectoryPlaneSpec(t.plane, { metric: "trainLoss", title: "Train loss", cap: 5 }),
    );
    out.trajectoryPlaneTest = await renderVegaToSvg(
      trajectoryPlaneSpec(t.plane, {
        metric: "testError",
        title: "Test error (%)",
        cap: 40,
        percent: true,
      }),
    );
  }
  return out;
};

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const pointRow = (p: PlanePoint): string =>
  `<tr><th>${esc(p.label)}</th><td>${p.x.toFixed(3)}</td><td>${p.y.toFixed(3)}</td><td>${p.residual.toFixed(3)}</td></tr>`;

/** The trajectory section of `report.html` (`fig` renders a figure or its "not computed" line). */
export const trajectoryHtml = (
  t: TrajectoryResult,
  swaStart: number,
  fig: (name: string, caption: string) => string,
): string => {
  const c = t.runs.cyclical;
  const k = t.runs.constant;
  const plane = t.plane;
  return `<h2 id="trajectory">SGD trajectories under cyclical and constant rates (section 3.1)</h2>
<p>From the same pretrained point (weights and momentum after epoch ${swaStart}), SGD ran over the SWA phase on the same batches twice: with the cyclical rate (${c.lrHigh} down to ${c.lrLow} in each cycle) and with the constant rate ${k.lrLow}; a proposal was taken at each cycle's end (${c.proposalErrors.length} per rate), each scored on ${t.testImages} test images.</p>
${fig("trajectoryCurves", "Test error of each proposal (solid) and of the running SWA average of the proposals so far (dashed), per rate: the paper's Figure 3.")}
<p>${esc(t.planeNote)}</p>
${fig("trajectoryPlane", "Train loss on the plane through three cyclical proposals, with both runs' proposals from the pretrained point (blue: cyclical, orange: constant) and their SWA averages (diamonds): the paper's Figure 1.")}
${fig("trajectoryPlaneTest", "Test error on the same plane with the same points, showing where the averages sit relative to the proposals.")}
${
  plane === null
    ? ""
    : `<table id="trajectoryPoints"><tr><th>point</th><th>x</th><th>y</th><th>distance from the plane</th></tr>
${plane.points.map(pointRow).join("\n")}
</table>`
}
<p>Spread of the proposals (mean distance from their mean, trainable weights): cyclical ${c.spread.toFixed(3)}, constant ${k.spread.toFixed(3)}.</p>
<ul id="trajectoryFindings">${findingLines(t.findings)
    .map((l) => `<li>${esc(l)}</li>`)
    .join("")}</ul>`;
};
