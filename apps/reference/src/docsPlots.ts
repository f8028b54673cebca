/**
 * The geometry plots the multi-seed `--docs` mode writes beside the docs file (issue 14's
 * "Geometry, as in the paper's figures"): the width distribution over every seed's half-rays, and
 * from the first seed the segment from SWA through SGD (Figure 5), the rays, and the plane through
 * three snapshots of the SWA phase (Figure 1 style, the trajectory analysis). Read back from each
 * seed's `report.json`, drawn with the same functions as the seed's `report.html`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { renderVegaLiteToSvg, widthsOfRays } from "@wider/geometry";
import * as E from "fp-ts/lib/Either.js";
import type { TopLevelSpec } from "vega-lite";
import { AppError } from "./AppError.js";
import { type Report, reportSvgs } from "./report.js";

/** One plot for the docs: its file name suffix, its alt text and the SVG. */
export interface DocsPlot {
  readonly name: string;
  readonly alt: string;
  readonly svg: string;
}

/** Reads a seed's `report.json` (written by this app; checked only for the parts drawn here). */
const readReport = async (dir: string): Promise<Report> => {
  const file = join(dir, "report.json");
  const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<Report>;
  if (parsed.geometry === undefined || parsed.config === undefined) {
    throw new AppError(
      `${file} has no geometry or config section; rerun that seed with this version of wider`,
    );
  }
  return parsed as Report;
};

/** One point of the width strip plot. */
interface WidthPoint {
  readonly seed: string;
  readonly center: "SGD" | "SWA";
  readonly width: number;
  readonly censored: boolean;
}

/** Every half-ray's width of every seed, SGD and SWA (a censored width is drawn at the reach). */
const widthPoints = (reports: readonly Report[]): WidthPoint[] =>
  reports.flatMap((r) => {
    const c = r.config;
    const of = (center: "SGD" | "SWA", rays: Report["geometry"]["rays"]["sgd"]): WidthPoint[] => {
      const w = widthsOfRays(rays, { metric: "trainLoss", delta: c.widthThreshold });
      if (E.isLeft(w)) throw new AppError(`seed ${c.seed}: widths: ${w.left.message}`);
      return w.right.map((x) => ({
        seed: String(c.seed),
        center,
        width: x ?? c.rayDistance,
        censored: x === null,
      }));
    };
    return [...of("SGD", r.geometry.rays.sgd), ...of("SWA", r.geometry.rays.swa)];
  });

/** The Vega-Lite spec of the width distribution: one dot per half-ray, a tick at each median. */
const widthSpec = (
  points: readonly WidthPoint[],
  delta: number,
  distance: string,
): TopLevelSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title: {
    text: "Width of SGD and SWA: every half-ray of every seed",
    subtitle: [
      `width: the distance at which train loss rises by ${delta}; SGD–SWA distance ${distance}`,
      "hollow: never crossed within the ray (drawn at its reach); bar: median",
    ],
  },
  width: 520,
  height: 120,
  data: { values: points.map((p) => ({ ...p })) },
  layer: [
    {
      mark: { type: "point", size: 40, opacity: 0.7 },
      encoding: {
        x: { field: "width", type: "quantitative", title: "width (distance in weight space)" },
        y: { field: "center", type: "nominal", title: null },
        yOffset: { field: "seed", type: "nominal" },
        color: { field: "seed", type: "nominal", title: "seed" },
        fill: {
          condition: { test: "datum.censored", value: "transparent" },
          field: "seed",
          type: "nominal",
        },
      },
    },
    {
      mark: { type: "tick", thickness: 3, size: 40, color: "black" },
      encoding: {
        x: { aggregate: "median", field: "width", type: "quantitative" },
        y: { field: "center", type: "nominal" },
      },
    },
  ],
});

/**
 * The docs plots of a multi-seed run: `widths` over every seed, and the first seed's `segment`,
 * `rays` and `trajectory-plane` where that seed computed them.
 */
export const docsPlots = async (
  runs: readonly string[],
  distance: number | null,
): Promise<DocsPlot[]> => {
  const reports = await Promise.all(runs.map(readReport));
  const first = reports[0];
  if (first === undefined) return [];
  const out: DocsPlot[] = [];
  const points = widthPoints(reports);
  if (points.length > 0) {
    const shown = distance === null ? "unknown" : distance.toFixed(2);
    out.push({
      name: "widths",
      alt: `width of every half-ray from SGD and SWA, ${reports.length} seeds`,
      svg: await renderVegaLiteToSvg(widthSpec(points, first.config.widthThreshold, shown)),
    });
  }
  const svgs = await reportSvgs(first);
  const seed = first.config.seed;
  const pick = [
    ["segment", `seed ${seed}: test error and train loss from SWA (0) through SGD (1) and beyond`],
    ["rays", `seed ${seed}: train loss along random rays from SGD and from SWA`],
    [
      "trajectoryPlane",
      `seed ${seed}: train loss on the plane through three snapshots of the SWA phase`,
    ],
    [
      "trajectoryPlaneTest",
      `seed ${seed}: test error on the plane through three snapshots of the SWA phase`,
    ],
  ] as const;
  for (const [name, alt] of pick) {
    const svg = svgs[name];
    if (svg !== undefined) out.push({ name, alt, svg });
  }
  return out;
};
