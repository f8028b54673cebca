/**
 * The SWAP report of `wider swap`: its rows (the run's SGD and SWA, SWAP, the members' mean) and
 * its Markdown and HTML renderings.
 *
 * @module
 */
import * as t from "io-ts";
import type { Config } from "../config.js";
import type { SwapEvaluation } from "../swapEvaluate.js";

const Scores = t.type({ accuracy: t.number, nll: t.number, brier: t.number, ece: t.number });
/** The parts of a phase-1 run's `report.json` that `wider swap` reads. */
export const RunReportC = t.type({
  results: t.type({ sgd: Scores, swa: Scores }),
  seconds: t.record(t.string, t.number),
});

/** One method's row of the SWAP report. */
export interface SwapRow {
  readonly method: string;
  readonly epochsPerModel: number;
  readonly batchSize: string;
  readonly accuracy: number;
  readonly nll: number;
  readonly brier: number;
  readonly ece: number;
}

/** The SWAP report (`swap.json`). */
export interface SwapReport {
  readonly tool: "wider";
  readonly kind: "swap";
  readonly version: 1;
  readonly createdAt: string;
  readonly swapId: string;
  readonly phase1: string;
  readonly config: Config;
  readonly members: number;
  readonly memberBatchSize: number;
  readonly lrScale: number;
  readonly backend: string;
  readonly rows: readonly SwapRow[];
  readonly memberOutputs: readonly unknown[];
  readonly seconds: { readonly phase1: number; readonly phase2: number; readonly phase3: number };
  readonly notes: readonly string[];
}

const pct = (x: number) => `${(100 * x).toFixed(2)}`;

/** The report's Markdown. */
export const swapMarkdown = (r: SwapReport): string =>
  [
    `# SWAP ${r.swapId}`,
    "",
    `${r.config.model} on ${r.config.dataset}, ${r.config.epochs} epochs per model; SWAP: ${r.members} members from the SGD state at epoch ${r.config.swaStart}, batch size ${r.memberBatchSize}, rate x ${r.lrScale}. Test split, ${r.backend} backend.`,
    "",
    "| method | epochs per model | batch size | test accuracy (%) | NLL | Brier | ECE |",
    "|---|---|---|---|---|---|---|",
    ...r.rows.map(
      (x) =>
        `| ${x.method} | ${x.epochsPerModel} | ${x.batchSize} | ${pct(x.accuracy)} | ${x.nll.toFixed(4)} | ${x.brier.toFixed(4)} | ${x.ece.toFixed(4)} |`,
    ),
    "",
    `Wall seconds: phase 1 ${r.seconds.phase1.toFixed(1)}, phase 2 ${r.seconds.phase2.toFixed(1)} (waiting for the workers), phase 3 ${r.seconds.phase3.toFixed(1)}.`,
    "",
    ...r.notes.map((n) => `- ${n}`),
    "",
  ].join("\n");

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The report's HTML: the same table. */
export const swapHtml = (r: SwapReport): string =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SWAP ${esc(r.swapId)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}td:first-child,th:first-child{text-align:left}</style>
</head><body>
<h1>SWAP ${esc(r.swapId)}</h1>
<p>${esc(r.config.model)} on ${esc(r.config.dataset)}, ${r.config.epochs} epochs per model; ${r.members} members from the SGD state at epoch ${r.config.swaStart}, batch size ${r.memberBatchSize}, rate x ${r.lrScale}; ${esc(r.backend)} backend.</p>
<table><thead><tr><th>method</th><th>epochs per model</th><th>batch size</th><th>test accuracy (%)</th><th>NLL</th><th>Brier</th><th>ECE</th></tr></thead><tbody>
${r.rows
  .map(
    (x) =>
      `<tr><td>${esc(x.method)}</td><td>${x.epochsPerModel}</td><td>${esc(x.batchSize)}</td><td>${pct(x.accuracy)}</td><td>${x.nll.toFixed(4)}</td><td>${x.brier.toFixed(4)}</td><td>${x.ece.toFixed(4)}</td></tr>`,
  )
  .join("\n")}
</tbody></table>
<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>
</body></html>
`;

/** Mean and (sample) standard deviation. */
const meanStd = (xs: readonly number[]): { mean: number; std: number } => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std =
    xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, std };
};

/** Builds the rows: the run's SGD and SWA, SWAP, and the members' mean. */
export const swapRows = (
  config: Config,
  run: t.TypeOf<typeof RunReportC>,
  ev: SwapEvaluation,
  memberBatchSize: number,
): SwapRow[] => {
  const row = (method: string, batch: string, s: t.TypeOf<typeof Scores>): SwapRow => ({
    method,
    epochsPerModel: config.epochs,
    batchSize: batch,
    accuracy: s.accuracy,
    nll: s.nll,
    brier: s.brier,
    ece: s.ece,
  });
  const b = String(config.batchSize);
  const mixed = `${config.batchSize} to epoch ${config.swaStart}, then ${memberBatchSize}`;
  const m = (k: keyof t.TypeOf<typeof Scores>) => meanStd(ev.members.map((x) => x[k])).mean;
  return [
    row("SGD", b, run.results.sgd),
    row("SWA", b, run.results.swa),
    row(`SWAP (${ev.members.length} members averaged)`, mixed, ev.swap),
    row("SWAP member (mean of members)", mixed, {
      accuracy: m("accuracy"),
      nll: m("nll"),
      brier: m("brier"),
      ece: m("ece"),
    }),
  ];
};
