/**
 * Calibration of BMA predictions: accuracy, NLL, Brier and ECE (from `@wider/ensembling`), the
 * reliability-diagram data, and a small self-contained SVG reliability diagram (hand-written
 * markup, no plotting dependency).
 *
 * @module
 */
import {
  type CalibrationOptions,
  type EnsemblingError,
  type LabelInput,
  type NllOptions,
  type PredictionMetrics,
  type ProbabilityInput,
  predictionMetrics,
  type ReliabilityBin,
  reliabilityBins,
} from "@wider/ensembling";
import * as E from "fp-ts/lib/Either.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The four metrics plus the reliability diagram's bins (confidence, accuracy and count per bin). */
export interface CalibrationReport {
  readonly metrics: PredictionMetrics;
  readonly reliability: readonly ReliabilityBin[];
}

/** Options of {@link reliabilityDiagramSvg}. */
export interface DiagramOptions {
  /** Width and height of the square plot area in pixels (default 320). */
  readonly size?: number;
  /** A title above the plot (escaped). */
  readonly title?: string;
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Accuracy, NLL, Brier and ECE of predicted probabilities, with the reliability bins the ECE is
 * computed from (`bins` equal-width confidence bins, default 15). Plain numbers; tensors are read,
 * not disposed.
 *
 * @example
 * calibrationReport({ data: [0.9, 0.1, 0.3, 0.7], numClasses: 2 }, [0, 0])
 * // Right({ metrics: { count: 2, accuracy: 0.5, ... }, reliability: [ ...15 bins ] })
 */
export const calibrationReport = (
  probs: ProbabilityInput,
  labels: LabelInput,
  options: NllOptions & CalibrationOptions = {},
): E.Either<EnsemblingError, CalibrationReport> => {
  const metrics = predictionMetrics(probs, labels, options);
  if (E.isLeft(metrics)) return metrics;
  const reliability = reliabilityBins(
    probs,
    labels,
    options.bins === undefined ? {} : { bins: options.bins },
  );
  if (E.isLeft(reliability)) return reliability;
  return E.right({ metrics: metrics.right, reliability: reliability.right });
};

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

const num = (x: number): string => (Math.round(x * 100) / 100).toString();

/**
 * A reliability diagram as an SVG document (a string): per non-empty bin, a bar up to the bin's
 * accuracy over its confidence range, a tick at its mean confidence, and the diagonal of perfect
 * calibration; bins are labelled with their counts in `<title>` tooltips.
 *
 * @example
 * const svg = reliabilityDiagramSvg(report.reliability, { title: "SWAG, test" });
 * await writeFile("reliability.svg", svg);
 */
export const reliabilityDiagramSvg = (
  bins: readonly ReliabilityBin[],
  options: DiagramOptions = {},
): string => {
  const size = options.size ?? 320;
  const pad = 40;
  const top = options.title === undefined ? 10 : 30;
  const x = (v: number) => pad + v * size;
  const y = (v: number) => top + (1 - v) * size;
  const parts: string[] = [];
  const width = size + pad + 10;
  const height = size + top + pad;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  if (options.title !== undefined) {
    parts.push(
      `<text x="${num(x(0.5))}" y="18" text-anchor="middle" font-size="13">${escapeXml(options.title)}</text>`,
    );
  }
  parts.push(
    `<rect x="${pad}" y="${top}" width="${size}" height="${size}" fill="none" stroke="#444"/>`,
  );
  for (const b of bins) {
    if (b.count === 0) continue;
    const w = (b.upper - b.lower) * size;
    const h = b.accuracy * size;
    parts.push(
      `<rect class="bin" x="${num(x(b.lower))}" y="${num(y(b.accuracy))}" width="${num(w)}" height="${num(h)}" fill="#4c78a8" stroke="#fff"><title>(${num(b.lower)}, ${num(b.upper)}]: ${b.count} samples, accuracy ${b.accuracy.toFixed(3)}, confidence ${b.confidence.toFixed(3)}</title></rect>`,
    );
    parts.push(
      `<line class="confidence" x1="${num(x(b.lower))}" x2="${num(x(b.upper))}" y1="${num(y(b.confidence))}" y2="${num(y(b.confidence))}" stroke="#e45756" stroke-width="2"/>`,
    );
  }
  parts.push(
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#888" stroke-dasharray="4 3"/>`,
  );
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<text x="${num(x(v))}" y="${num(y(0) + 14)}" text-anchor="middle">${v}</text>`,
      `<text x="${pad - 4}" y="${num(y(v) + 4)}" text-anchor="end">${v}</text>`,
    );
  }
  parts.push(
    `<text x="${num(x(0.5))}" y="${height - 6}" text-anchor="middle">confidence</text>`,
    `<text transform="translate(12 ${num(y(0.5))}) rotate(-90)" text-anchor="middle">accuracy</text>`,
    "</svg>",
  );
  return parts.join("\n");
};
