/**
 * The experiment's plots, rendered to SVG in Node with @wider/geometry (Vega / Vega-Lite):
 * test accuracy and NLL per method (seeds and mean ± std), the learning rates and training loss
 * of the branches, rays from the SGD and SWA solutions, and the segment between them.
 *
 * @module
 */
import { rayPlotSvg, renderVegaLiteToSvg, segmentPlotSvg } from "@wider/geometry";
import type { ExperimentReport } from "./aggregate.js";
import type { ExperimentConfig } from "./config.js";
import { schedulesOf } from "./seed.js";

/** One rendered plot: file name (in the output folder), alt text, SVG. */
export interface Plot {
  readonly file: string;
  readonly alt: string;
  readonly svg: string;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

const methodLabel = (r: ExperimentReport, key: string): string => {
  const m = r.methods.find((x) => x.key === key);
  return m === undefined ? key : `${m.label} ${m.budget} B`;
};

/** Test accuracy and NLL per method: each seed a dot, the mean ± std as an error bar. */
const comparisonSvg = (r: ExperimentReport): Promise<string> => {
  const rows = r.seeds.flatMap((s) =>
    r.methods.map((m) => ({
      method: methodLabel(r, m.key),
      seed: s.seed,
      accuracy: 100 * s.results[m.key].accuracy,
      nll: s.results[m.key].nll,
    })),
  );
  const order = r.methods.map((m) => methodLabel(r, m.key));
  const panel = (field: "accuracy" | "nll", title: string) => ({
    width: 260,
    height: 220,
    layer: [
      {
        mark: { type: "errorbar", extent: "stdev", ticks: true },
        encoding: {
          x: { field: "method", type: "nominal", sort: order, title: null },
          y: { field, type: "quantitative", scale: { zero: false }, title },
        },
      },
      {
        mark: { type: "point", filled: true, size: 70, color: "black" },
        encoding: {
          x: { field: "method", type: "nominal", sort: order },
          y: { field, type: "quantitative", aggregate: "mean" },
        },
      },
      {
        mark: { type: "point", opacity: 0.6 },
        encoding: {
          x: { field: "method", type: "nominal", sort: order },
          y: { field, type: "quantitative" },
          color: { field: "seed", type: "nominal", title: "seed" },
        },
      },
    ],
  });
  return renderVegaLiteToSvg({
    $schema: SCHEMA,
    title: `Fashion-MNIST, small CNN: test accuracy and NLL (${r.seeds.length} seeds; bars: mean ± std)`,
    data: { values: rows },
    hconcat: [panel("accuracy", "test accuracy (%)"), panel("nll", "test NLL")],
  } as Parameters<typeof renderVegaLiteToSvg>[0]);
};

/** Learning rate of each branch per step, and the logged training loss (first seed). */
const trainingSvg = (r: ExperimentReport, config: ExperimentConfig): Promise<string> => {
  const b = r.budget;
  const lr = schedulesOf(config, b);
  const every = Math.max(1, Math.floor(b.extendedEnd / 400));
  const rows: { step: number; lr: number; branch: string }[] = [];
  for (let s = 0; s < b.budget; s += every)
    rows.push({ step: s, lr: lr.sgd(s), branch: s < b.start ? "pretrain" : "SGD" });
  for (let s = b.start; s < b.extendedEnd; s += every)
    rows.push({ step: s, lr: lr.swa(s - b.start), branch: "SWA" });
  for (let s = b.start; s < b.budget; s += 1)
    rows.push({ step: s, lr: lr.fge(s - b.start), branch: "FGE" });
  const seed = r.seeds[0];
  const loss = (seed?.curve ?? []).map((p) => ({
    step: p.step,
    loss: p.loss,
    branch: p.phase === "pretrain" ? "pretrain" : p.phase.toUpperCase(),
  }));
  const color = {
    field: "branch",
    type: "nominal",
    title: "branch",
    sort: ["pretrain", "SGD", "SWA", "FGE"],
  };
  return renderVegaLiteToSvg({
    $schema: SCHEMA,
    title: `Schedules and training loss (seed ${seed?.seed ?? "?"}); B = ${b.budget} steps`,
    vconcat: [
      {
        width: 520,
        height: 160,
        data: { values: rows },
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x: { field: "step", type: "quantitative", title: "step" },
          y: { field: "lr", type: "quantitative", scale: { type: "log" }, title: "learning rate" },
          color,
        },
      },
      {
        width: 520,
        height: 160,
        data: { values: loss },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "step", type: "quantitative", title: "step" },
          y: { field: "loss", type: "quantitative", title: "batch loss" },
          color,
        },
      },
    ],
  } as Parameters<typeof renderVegaLiteToSvg>[0]);
};

/** All plots of a report; `prefix` names the files (e.g. `fashion-mnist`). */
export const experimentPlots = async (
  r: ExperimentReport,
  config: ExperimentConfig,
  prefix: string,
): Promise<Plot[]> => {
  const plots: Plot[] = [
    {
      file: `${prefix}-comparison.svg`,
      alt: "test accuracy and NLL per method",
      svg: await comparisonSvg(r),
    },
    {
      file: `${prefix}-training.svg`,
      alt: "learning rates and training loss",
      svg: await trainingSvg(r, config),
    },
  ];
  const seed = r.seeds[0];
  if (seed !== undefined && seed.rays.sgd.length > 0) {
    plots.push({
      file: `${prefix}-rays.svg`,
      alt: "train loss along random rays from the SGD and SWA solutions",
      svg: await rayPlotSvg(
        [
          { label: "SGD", rays: seed.rays.sgd },
          { label: "SWA", rays: seed.rays.swa },
        ],
        { metric: "trainLoss", title: "train loss", logY: true },
        { title: `Train loss along ${config.rays} random rays (seed ${seed.seed}; bold: mean)` },
      ),
    });
  }
  if (seed?.segment) {
    plots.push({
      file: `${prefix}-segment.svg`,
      alt: "train loss and test error on the line through SWA and SGD",
      svg: await segmentPlotSvg(
        seed.segment,
        [
          { metric: "trainLoss", title: "train loss" },
          { metric: "testError", title: "test error (%)", percent: true },
        ],
        { endLabels: ["SWA", "SGD"], title: `Between SWA (0) and SGD (seed ${seed.seed})` },
      ),
    });
  }
  return plots;
};
