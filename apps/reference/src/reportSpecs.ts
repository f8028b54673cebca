/**
 * The Vega-Lite specs of `report.html`'s plots: training curves, learning-rate schedules, and the
 * methods' test metrics side by side (and the labelled methods in table order).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { Evaluation, MethodScores } from "./evaluate.js";
import type { Report } from "./report.js";
import type { EpochRecord } from "./training.js";

const W = 520;
const H = 260;

/** The per-epoch training curves of every track. */
export const curvesSpec = (history: readonly EpochRecord[]): TopLevelSpec =>
  ({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: W,
    height: H,
    title: "Training curves",
    data: {
      values: history.flatMap((h) => [
        { epoch: h.epoch + 1, phase: h.phase, metric: "train loss", value: h.trainLoss },
        { epoch: h.epoch + 1, phase: h.phase, metric: "test error", value: h.testError },
        ...(h.swaTestError === undefined
          ? []
          : [
              {
                epoch: h.epoch + 1,
                phase: "swa average",
                metric: "test error",
                value: h.swaTestError,
              },
            ]),
      ]),
    },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: { field: "value", type: "quantitative", title: null },
      color: { field: "phase", type: "nominal" },
      row: { field: "metric", type: "nominal", title: null },
    },
    resolve: { scale: { y: "independent" } },
  }) as TopLevelSpec;

/** The learning-rate schedules, in global steps. */
export const scheduleSpec = (s: Report["schedules"]): TopLevelSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  width: W,
  height: H,
  title: "Learning-rate schedules",
  data: {
    values: [
      ...s.sgd.map(([step, lr]) => ({
        step,
        lr,
        schedule: "SGD (to the pretrained point, then the baseline)",
      })),
      ...s.swa.map(([step, lr]) => ({ step, lr, schedule: "SWA" })),
      ...s.fge.map(([step, lr]) => ({ step, lr, schedule: "FGE" })),
    ],
  },
  mark: { type: "line" },
  encoding: {
    x: { field: "step", type: "quantitative", title: "step (iteration)" },
    y: { field: "lr", type: "quantitative", title: "learning rate" },
    color: { field: "schedule", type: "nominal" },
  },
});

/** The scored methods of a run, labelled, in table order. */
export const methodsOf = (r: Evaluation): Array<[string, MethodScores]> => [
  ["pretrained", r.pretrained],
  ["SGD", r.sgd],
  ["SWA", r.swa],
  ...(r.swaExtended === undefined
    ? []
    : [["SWA (extended)", r.swaExtended] as [string, MethodScores]]),
  ["FGE", r.fge],
  ...(r.swag === undefined ? [] : [["SWAG", r.swag] as [string, MethodScores]]),
];

/** The methods' test metrics side by side. */
export const comparisonSpec = (r: Evaluation): TopLevelSpec =>
  ({
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    width: W / 2,
    height: 140,
    title: "Test error and NLL by method",
    data: {
      values: methodsOf(r).flatMap(([name, m]) => [
        { method: name, metric: "test error (%)", value: 100 * (1 - m.accuracy) },
        { method: name, metric: "NLL", value: m.nll },
      ]),
    },
    mark: { type: "point", filled: true, size: 90 },
    encoding: {
      y: { field: "method", type: "nominal", sort: null, title: null },
      // not from zero: the methods differ by little, and a dot plot needs no zero baseline
      x: { field: "value", type: "quantitative", scale: { zero: false }, title: null },
      color: { field: "method", type: "nominal", legend: null },
      column: { field: "metric", type: "nominal", title: null },
    },
    resolve: { scale: { x: "independent" } },
  }) as TopLevelSpec;
