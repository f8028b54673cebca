/**
 * The page's live plots as Vega-Lite specs (rendered by `vega-embed`): the learning-rate schedule
 * of each track with the current step marked, and the test error of SGD, the running SWA average
 * and the FGE ensemble. Their data streams in through the named data sets `current` and `points`.
 * The geometry plots after training are `@wider/geometry`'s own specs.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
const tracks = { domain: ["sgd", "swa", "fge"], range: ["#1f77b4", "#d62728", "#2ca02c"] };

/** The schedule of every track (`rows`), and a rule at the step in the named data set `current`. */
export const scheduleSpec = (
  rows: ReadonlyArray<{ step: number; lr: number; track: string }>,
): TopLevelSpec => ({
  $schema: SCHEMA,
  title: "Learning rate (current step marked)",
  width: 420,
  height: 200,
  layer: [
    {
      data: { values: rows.map((r) => ({ ...r })) },
      mark: { type: "line", interpolate: "step-after" },
      encoding: {
        x: { field: "step", type: "quantitative", title: "global step" },
        y: { field: "lr", type: "quantitative", title: "learning rate" },
        color: { field: "track", type: "nominal", scale: tracks, title: "track" },
        strokeDash: { field: "track", type: "nominal", legend: null },
      },
    },
    {
      data: { name: "current" },
      mark: { type: "rule", color: "black", strokeWidth: 2 },
      encoding: { x: { field: "step", type: "quantitative" } },
    },
  ],
});

/** Test error (%) against the global step, one line per track, from the named data set `points`. */
export const errorSpec = (budgetStep: number): TopLevelSpec => ({
  $schema: SCHEMA,
  title: "Test error: SGD, running SWA average, FGE ensemble so far",
  width: 420,
  height: 240,
  data: { name: "points" },
  mark: { type: "line", point: true },
  encoding: {
    x: {
      field: "step",
      type: "quantitative",
      title: "global step",
      scale: { domain: [0, budgetStep] },
    },
    y: { field: "error", type: "quantitative", title: "test error (%)", scale: { zero: false } },
    color: { field: "track", type: "nominal", scale: tracks, title: "track" },
    tooltip: [
      { field: "track", type: "nominal" },
      { field: "step", type: "quantitative" },
      { field: "error", type: "quantitative", format: ".2f", title: "test error (%)" },
      { field: "models", type: "quantitative", title: "models" },
    ],
  },
});
