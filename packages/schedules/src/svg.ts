/**
 * A small, dependency-free SVG line plot of a schedule (axes, ticks, labels, one polyline).
 *
 * Hand-rolled on purpose: schedules is a pure package with no runtime dependency beyond fp-ts and
 * io-ts, and Vega (used by @wider/geometry for its richer plots) would add megabytes for one line.
 */

import { checkNonNegativeInt, checkPositiveInt, fail } from "./errors.js";
import type { Schedule } from "./Schedule.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** Options of {@link toSvg}; all optional. */
export interface SvgOptions {
  /** Width of the whole picture in px (default 640). */
  readonly width?: number;
  /** Height of the whole picture in px (default 320). */
  readonly height?: number;
  /** Title drawn above the plot (default none). */
  readonly title?: string;
  /** x-axis label (default `"step"`). */
  readonly xLabel?: string;
  /** y-axis label (default `"learning rate"`). */
  readonly yLabel?: string;
  /** Line colour, any SVG colour (default `"#1f77b4"`). */
  readonly color?: string;
  /**
   * Most points in the line (default 4000, at least 8). Longer schedules are thinned per bucket of
   * steps to the first, smallest, largest and last value, so peaks and troughs stay visible.
   */
  readonly maxPoints?: number;
}

// -------------------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------------------

/** Escapes text for XML content and attribute values. */
export const escapeXml = (text: string): string =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");

/** A "nice" tick spacing (1, 2 or 5 times a power of ten) giving about `count` intervals. */
export const niceStep = (span: number, count: number): number => {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
};

/** Tick values `k * step` within `[lo, hi]` (with a little slack for rounding). */
export const ticks = (lo: number, hi: number, step: number): number[] => {
  const out: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  for (let k = first; k <= last; k++) out.push(k * step);
  return out;
};

/** Formats a tick value with as many decimals as its spacing needs. */
export const formatTick = (v: number, step: number): string => {
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  const s = v.toFixed(Math.min(decimals, 20));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
};

/** Steps to draw: all of them, or per bucket the first, min, max and last (in step order). */
const pickSteps = (ys: readonly number[], maxPoints: number): number[] => {
  const n = ys.length;
  if (n <= maxPoints) return ys.map((_, i) => i);
  const buckets = Math.floor(maxPoints / 4);
  const picked: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const a = Math.floor((b * n) / buckets);
    const e = Math.floor(((b + 1) * n) / buckets);
    let lo = a;
    let hi = a;
    for (let i = a; i < e; i++) {
      if ((ys[i] as number) < (ys[lo] as number)) lo = i;
      if ((ys[i] as number) > (ys[hi] as number)) hi = i;
    }
    for (const i of [...new Set([a, lo, hi, e - 1])].sort((x, y) => x - y)) picked.push(i);
  }
  return picked;
};

const fmt = (v: number): string => {
  const s = v.toFixed(2);
  return s === "-0.00" ? "0.00" : s;
};

// -------------------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------------------

/**
 * Renders steps `0 .. steps - 1` of a schedule as an SVG line plot (a standalone XML string).
 * The y axis starts at `min(0, smallest rate)`; ticks are 1/2/5 multiples of a power of ten.
 *
 * @example
 * fs.writeFileSync("lr.svg", toSvg(cyclical({ high: 0.05, low: 0.001, cycle: 390 }), 3900));
 */
export const toSvg = (schedule: Schedule, steps: number, options: SvgOptions = {}): string => {
  checkPositiveInt("toSvg", "steps", steps);
  const width = checkPositiveInt("toSvg", "options.width", options.width ?? 640);
  const height = checkPositiveInt("toSvg", "options.height", options.height ?? 320);
  const maxPoints = checkNonNegativeInt("toSvg", "options.maxPoints", options.maxPoints ?? 4000);
  if (maxPoints < 8) fail("options.maxPoints", maxPoints, "an integer >= 8", "toSvg");
  const title = options.title;
  const xLabel = options.xLabel ?? "step";
  const yLabel = options.yLabel ?? "learning rate";
  const color = options.color ?? "#1f77b4";

  const ys: number[] = [];
  for (let s = 0; s < steps; s++) {
    const y = schedule(s);
    if (!Number.isFinite(y))
      fail(`schedule(${s})`, y, "a finite rate at every plotted step", "toSvg");
    ys.push(y);
  }

  // Layout.
  const left = 72;
  const right = 20;
  const top = title === undefined ? 16 : 36;
  const bottom = 48;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  if (plotW < 20 || plotH < 20)
    fail("options", { width, height }, "a picture of at least 112 x 100 px", "toSvg");

  // Domains.
  const xMax = Math.max(1, steps - 1);
  const xStep = Math.max(1, niceStep(xMax, 6));
  let yMin = Math.min(0, ...ys);
  let yMax = Math.max(...ys);
  if (yMax <= yMin) yMax = yMin + (yMin === 0 ? 1 : Math.abs(yMin));
  const yStep = niceStep(yMax - yMin, 5);
  yMin = Math.floor(yMin / yStep + 1e-9) * yStep;
  yMax = Math.ceil(yMax / yStep - 1e-9) * yStep;
  const X = (x: number): number => left + (x / xMax) * plotW;
  const Y = (y: number): number => top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
  );
  if (title !== undefined)
    out.push(
      `<text class="title" x="${fmt(width / 2)}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    );

  // x axis.
  out.push('<g class="x-axis" stroke="#444">');
  out.push(
    `<line x1="${fmt(left)}" y1="${fmt(top + plotH)}" x2="${fmt(left + plotW)}" y2="${fmt(top + plotH)}"/>`,
  );
  for (const v of ticks(0, xMax, xStep)) {
    const x = fmt(X(v));
    out.push(
      `<line class="tick" x1="${x}" y1="${fmt(top + plotH)}" x2="${x}" y2="${fmt(top + plotH + 5)}"/>`,
    );
    out.push(
      `<text class="tick-label" x="${x}" y="${fmt(top + plotH + 18)}" text-anchor="middle" stroke="none" fill="#222">${formatTick(v, xStep)}</text>`,
    );
  }
  out.push(
    `<text class="axis-label" x="${fmt(left + plotW / 2)}" y="${fmt(height - 8)}" text-anchor="middle" stroke="none" fill="#222">${escapeXml(xLabel)}</text>`,
  );
  out.push("</g>");

  // y axis with grid lines.
  out.push('<g class="y-axis" stroke="#444">');
  out.push(`<line x1="${fmt(left)}" y1="${fmt(top)}" x2="${fmt(left)}" y2="${fmt(top + plotH)}"/>`);
  for (const v of ticks(yMin, yMax, yStep)) {
    const y = fmt(Y(v));
    out.push(`<line class="tick" x1="${fmt(left - 5)}" y1="${y}" x2="${fmt(left)}" y2="${y}"/>`);
    out.push(
      `<line class="grid" x1="${fmt(left)}" y1="${y}" x2="${fmt(left + plotW)}" y2="${y}" stroke="#ddd"/>`,
    );
    out.push(
      `<text class="tick-label" x="${fmt(left - 8)}" y="${fmt(Y(v) + 4)}" text-anchor="end" stroke="none" fill="#222">${formatTick(v, yStep)}</text>`,
    );
  }
  out.push(
    `<text class="axis-label" x="14" y="${fmt(top + plotH / 2)}" text-anchor="middle" stroke="none" fill="#222" transform="rotate(-90 14 ${fmt(top + plotH / 2)})">${escapeXml(yLabel)}</text>`,
  );
  out.push("</g>");

  // The line.
  const points = pickSteps(ys, maxPoints)
    .map((s) => `${fmt(X(s))},${fmt(Y(ys[s] as number))}`)
    .join(" ");
  out.push(
    `<polyline class="schedule" fill="none" stroke="${escapeXml(color)}" stroke-width="1.5" points="${points}"/>`,
  );
  out.push("</svg>");
  return `${out.join("\n")}\n`;
};
