/**
 * The run's report: `report.json` (every number and the full config) and `report.html`, a
 * self-contained page (inline CSS, inline SVG plots rendered by Vega-Lite in Node; no script, no
 * server, no network) with training curves, learning-rate schedules, the SGD/SWA/FGE table,
 * rays, the segment and the plane. Both are written atomically (temp file + rename; a failed write leaves no temp file).
 * The plots' Vega-Lite specs are in `reportSpecs.ts`.
 *
 * @module
 */
import { join } from "node:path";
import type { PredictionMetrics } from "@wider/ensembling";
import {
  planeContourSvg,
  rayPlotSvg,
  renderVegaLiteToSvg,
  segmentPlotSvg,
  type WidthSummary,
} from "@wider/geometry";
import { reliabilityDiagramSvg } from "@wider/swag";
import type { BackendInfo } from "./backend.js";
import type { Config } from "./config.js";
import type { Evaluation } from "./evaluate.js";
import type { GeometryResult } from "./geometry.js";
import { writeTextFilesAtomic } from "./outputDir.js";
import { findingsHtml } from "./reportFindings.js";
import { comparisonSpec, curvesSpec, methodsOf, scheduleSpec } from "./reportSpecs.js";
import type { EpochRecord, ScheduleSet } from "./training.js";
import type { TrajectoryResult } from "./trajectoryPlane.js";
import { trajectoryHtml, trajectorySvgs } from "./trajectoryReport.js";

/** Everything `report.json` holds. */
export interface Report {
  readonly tool: "wider";
  readonly version: 1;
  readonly createdAt: string;
  readonly config: Config;
  readonly backend: BackendInfo;
  readonly dataset: {
    readonly name: string;
    readonly source: string;
    readonly trainUsed: number;
    readonly trainTotal: number;
    readonly testUsed: number;
    readonly imageShape: readonly number[];
  };
  readonly model: {
    readonly name: string;
    readonly parameters: number;
    readonly batchNorm: boolean;
  };
  readonly optimizer: string;
  readonly stepsPerEpoch: number;
  readonly swaCycleSteps: number;
  readonly fgeCycleSteps: number;
  readonly swaAveraged: number;
  /** Models in the extended SWA average (null without `swaExtend`). */
  readonly swaExtendedAveraged: number | null;
  readonly fgeSnapshots: number;
  readonly history: readonly EpochRecord[];
  readonly schedules: {
    readonly sgd: ReadonlyArray<readonly [number, number]>;
    readonly swa: ReadonlyArray<readonly [number, number]>;
    readonly fge: ReadonlyArray<readonly [number, number]>;
  };
  readonly results: Evaluation;
  readonly geometry: GeometryResult;
  /** Section 3.1's trajectory analysis (null with `trajectoryGrid` 0). */
  readonly trajectory: TrajectoryResult | null;
  readonly seconds: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
}

/** `[step, lr]` pairs of a schedule over `[from, to)`, thinned to at most `max` points. */
export const sampleSchedule = (
  s: (step: number) => number,
  from: number,
  to: number,
  offset: number,
  max = 400,
): Array<[number, number]> => {
  const n = to - from;
  const stride = Math.max(1, Math.ceil(n / max));
  const out: Array<[number, number]> = [];
  for (let k = 0; k < n; k += stride) out.push([from + k + offset, s(from + k)]);
  if (n > 0 && (n - 1) % stride !== 0) out.push([to - 1 + offset, s(to - 1)]);
  return out;
};

/** The schedules as plotted, in global steps: each track over the steps it trains. */
export const scheduleSamples = (_config: Config, s: ScheduleSet): Report["schedules"] => ({
  sgd: sampleSchedule(s.sgd, 0, s.budgetStep, 0),
  swa: sampleSchedule(s.swa, s.swaFrom, s.swaEnd, 0),
  fge: sampleSchedule(s.fge, s.swaStartStep, s.budgetStep, 0),
});

// -------------------------------------------------------------------------------------------------
// html
// -------------------------------------------------------------------------------------------------

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

const row = (name: string, m: PredictionMetrics, extra = ""): string =>
  `<tr><th>${esc(name)}</th><td>${pct(m.accuracy)}</td><td>${pct(1 - m.accuracy)}</td><td>${m.nll.toFixed(4)}</td><td>${m.ece.toFixed(4)}</td><td>${m.brier.toFixed(4)}</td><td>${esc(extra)}</td></tr>`;

const fmtW = (x: number | null, reach: number): string => (x === null ? `>${reach}` : x.toFixed(2));

const fmtWidth = (w: WidthSummary | null, reach: number): string =>
  w === null
    ? "-"
    : `median ${fmtW(w.median, reach)} (quartiles ${fmtW(w.q1, reach)} to ${fmtW(w.q3, reach)}; ${w.count} half-rays${w.censored > 0 ? `, ${w.censored} never crossed` : ""})`;

/** The report's plots as SVG strings, by figure name (`curves`, `rays`, `segment`, `plane`, ...). */
export const reportSvgs = async (r: Report): Promise<Record<string, string>> => {
  const g = r.geometry;
  const svgs: Record<string, string> = {
    curves: await renderVegaLiteToSvg(curvesSpec(r.history)),
    schedules: await renderVegaLiteToSvg(scheduleSpec(r.schedules)),
    comparison: await renderVegaLiteToSvg(comparisonSpec(r.results)),
  };
  if (g.rays.sgd.length > 0) {
    const groups = [
      { label: "SGD", rays: g.rays.sgd },
      { label: "SWA", rays: g.rays.swa },
    ];
    svgs.rays = await rayPlotSvg(
      groups,
      { metric: "trainLoss", title: "train loss" },
      {
        title: "Train loss along random rays",
      },
    );
    svgs.raysTest = await rayPlotSvg(
      groups,
      { metric: "testError", percent: true, title: "test error (%)" },
      { title: "Test error along random rays" },
    );
  }
  if (g.segment !== null)
    svgs.segment = await segmentPlotSvg(
      g.segment,
      [
        { metric: "testError", percent: true, title: "test error (%)" },
        { metric: "trainLoss", title: "train loss" },
      ],
      { endLabels: ["SWA", "SGD"], title: "From SWA (0) to SGD and beyond" },
    );
  if (g.plane !== null) {
    const labels = ["SWA", "SGD", "pretrained"] as const;
    svgs.plane = await planeContourSvg(g.plane, {
      metric: "trainLoss",
      cap: 5,
      labels,
      title: "Train loss",
    });
    svgs.planeTest = await planeContourSvg(g.plane, {
      metric: "testError",
      percent: true,
      cap: 40,
      labels,
      title: "Test error (%)",
    });
  }
  if (r.trajectory !== null) Object.assign(svgs, await trajectorySvgs(r.trajectory));
  return svgs;
};

/** Renders `report.html` from the report (plots inline as SVG). */
export const renderHtml = async (r: Report): Promise<string> => {
  const svgs = await reportSvgs(r);
  const g = r.geometry;
  const fig = (name: string, caption: string): string =>
    svgs[name] === undefined
      ? `<p class="skip">${esc(caption)}: not computed in this run.</p>`
      : `<figure id="fig-${name}">${svgs[name]}<figcaption>${esc(caption)}</figcaption></figure>`;
  const res = r.results;
  const c = r.config;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wider report: ${esc(c.model)} on ${esc(r.dataset.name)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}
th{background:#f4f4f4}td:last-child{text-align:left}figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:85%}.skip{color:#888}
</style></head><body>
<h1>Wider: SGD vs SWA vs FGE</h1>
<p>${esc(c.model)} (${r.model.parameters.toLocaleString("en")} parameters${r.model.batchNorm ? ", BatchNorm" : ""}) on ${esc(r.dataset.name)}: ${r.dataset.trainUsed} of ${r.dataset.trainTotal} training images, ${r.dataset.testUsed} test images; budget ${c.epochs} epochs, pretraining ${c.swaStart}; backend <b>${esc(r.backend.name)}</b> (${esc(r.backend.reason)}), <span id="workers">${c.workers === 1 ? "1 thread (no --workers)" : `${c.workers} worker threads (data-parallel)`}</span>. Created ${esc(r.createdAt)}.</p>
<h2>Results on the test set</h2>
<table id="comparison"><tr><th>method</th><th>accuracy</th><th>error</th><th>NLL</th><th>ECE (15 bins)</th><th>Brier</th><th></th></tr>
${row("pretrained", res.pretrained, `epoch ${c.swaStart}`)}
${row("SGD", res.sgd, `continued to epoch ${c.epochs}`)}
${row("SWA", res.swa, `${r.swaAveraged} models averaged${r.model.batchNorm ? ", BN re-estimated" : ""}`)}
${res.swaExtended === undefined ? "" : row("SWA (extended)", res.swaExtended, `${r.swaExtendedAveraged} models averaged, to epoch ${c.epochs + c.swaExtend}`)}
${row("FGE", res.fge, `${res.fge.members} snapshots`)}
${res.swag === undefined ? "" : row("SWAG", res.swag, `${res.swag.samples} samples, rank ${res.swag.rank}, scale ${c.swagScale}`)}
</table>
${fig("comparison", "Test error and NLL of each method (axes not from zero)")}
${findingsHtml(r)}
${
  res.fgeVsAverage === null
    ? ""
    : `<p id="section35">Section 3.5 of the paper, on the ${res.fgeVsAverage.members} FGE snapshots: the ensemble's predictions and those of the single model with the snapshots' averaged weights differ by a mean total-variation distance of ${res.fgeVsAverage.ensembleSwaTv.toFixed(4)}, against ${res.fgeVsAverage.memberPairwiseTv.toFixed(4)} between two members (ratio ${res.fgeVsAverage.gapToSpreadRatio === null ? "-" : res.fgeVsAverage.gapToSpreadRatio.toFixed(3)}); their classes agree on ${pct(res.fgeVsAverage.ensembleSwaAgreement)} of test images (members pairwise: ${pct(res.fgeVsAverage.memberPairwiseAgreement)}).</p>`
}
<h2>Calibration</h2>
<p>Reliability diagrams on the test set (15 equal-width confidence bins): a bar reaches the accuracy of the predictions whose confidence falls in its bin; on the diagonal a method is perfectly calibrated.</p>
<div id="reliability" style="display:flex;flex-wrap:wrap;gap:8px">${methodsOf(res)
    .filter(([name]) => name !== "pretrained")
    .map(
      ([name, m]) =>
        `<figure class="reliability">${reliabilityDiagramSvg(m.reliability, { size: 200, title: name })}</figure>`,
    )
    .join("")}</div>
<h2>Training</h2>
${fig("curves", "Mean train loss per epoch and test error at each epoch's end (curve subset)")}
${fig("schedules", "Learning rate per step: SGD over the whole budget; SWA and FGE from the pretrained point")}
<p>Optimizer: ${esc(r.optimizer)}</p>
<h2>Geometry</h2>
<p>Width (distance from the solution at which train loss rises by ${c.widthThreshold}, each ray's two sides counted): SGD ${esc(fmtWidth(g.rays.widthSgd, c.rayDistance))}; SWA ${esc(fmtWidth(g.rays.widthSwa, c.rayDistance))}. ${g.points} points, each evaluated on ${c.geometrySubset} train and test images.</p>
${fig("rays", "Train loss along random directions from each solution (the same directions for both; thin: rays, bold: mean)")}
${fig("raysTest", "Test error along the same rays")}
${fig("segment", "Along the line w(t) = t w_SGD + (1 - t) w_SWA, extended beyond both ends")}
${fig("plane", "Train loss on the plane through SWA, SGD and the pretrained point (log-spaced contours, capped at 5)")}
${fig("planeTest", "Test error on the same plane (capped at 40%)")}
${r.trajectory === null ? '<p class="skip">Trajectory analysis (section 3.1): off (--trajectory-grid 0).</p>' : trajectoryHtml(r.trajectory, c.swaStart, fig)}
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>
<h2>Configuration</h2><pre>${esc(JSON.stringify(c, null, 2))}</pre>
</body></html>
`;
};

/** Writes `report.json` and `report.html` into `dir` atomically: neither is replaced if a write fails. */
export const writeReport = async (dir: string, report: Report): Promise<void> => {
  const html = await renderHtml(report);
  await writeTextFilesAtomic([
    [join(dir, "report.json"), `${JSON.stringify(report, null, 2)}\n`],
    [join(dir, "report.html"), html],
  ]);
};
