import { describe, expect, it } from "vitest";
import { cyclical, join, type Schedule, swalr, toSvg, values, warmup } from "../src/index.js";
import { escapeXml, formatTick, niceStep, ticks } from "../src/svg.js";
import { checkXml, type XmlElement } from "./xml.js";

/** The linear map from data to pixels read off the SVG's own tick marks and labels. */
const axisMap = (els: XmlElement[], axis: "x" | "y"): ((v: number) => number) => {
  // Elements in document order: the axis group, then its ticks and labels.
  const start = els.findIndex((e) => e.name === "g" && e.attrs.class === `${axis}-axis`);
  const after = els.slice(start + 1);
  const end = after.findIndex((e) => e.name === "g");
  const group = end === -1 ? after : after.slice(0, end);
  const labels = group.filter((e) => e.attrs.class === "tick-label");
  const pts = labels.map((e) => ({
    v: Number(e.text),
    px: Number(e.attrs[axis]) - (axis === "y" ? 4 : 0),
  }));
  expect(pts.length).toBeGreaterThanOrEqual(2);
  const a = pts[0]!;
  const b = pts[pts.length - 1]!;
  return (v) => a.px + ((v - a.v) / (b.v - a.v)) * (b.px - a.px);
};

const render = (s: Schedule, steps: number, options = {}) => {
  const svg = toSvg(s, steps, options);
  const { problems, elements } = checkXml(svg);
  expect(problems).toEqual([]);
  const line = elements.find((e) => e.name === "polyline");
  const points = (line?.attrs.points ?? "")
    .split(" ")
    .map((p) => p.split(",").map(Number) as [number, number]);
  return { svg, elements, points, X: axisMap(elements, "x"), Y: axisMap(elements, "y") };
};

describe("xml checker (test helper)", () => {
  it("accepts well-formed XML and rejects broken XML", () => {
    expect(checkXml('<?xml version="1.0"?><a x="1"><b/>t &amp; u</a>').problems).toEqual([]);
    expect(checkXml("<a><b></a></b>").problems.length).toBeGreaterThan(0);
    expect(checkXml("<a>x < y</a>").problems.length).toBeGreaterThan(0);
    expect(checkXml("<a>AT&T</a>").problems.length).toBeGreaterThan(0);
    expect(checkXml("<a x=1></a>").problems.length).toBeGreaterThan(0);
    expect(checkXml("<a></a><b></b>").problems.length).toBeGreaterThan(0);
    expect(checkXml("<a>").problems.length).toBeGreaterThan(0);
  });
});

describe("toSvg", () => {
  it("is well-formed XML with axes, ticks and labels, escaping text", () => {
    const { svg, elements } = render(cyclical({ high: 0.05, low: 0.001, cycle: 10 }), 40, {
      title: 'Cyclical <c=10> & "SWA"',
    });
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(elements[0]?.name).toBe("svg");
    expect(elements[0]?.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(elements.find((e) => e.attrs.class === "title")?.text).toBe('Cyclical <c=10> & "SWA"');
    const axisLabels = elements.filter((e) => e.attrs.class === "axis-label").map((e) => e.text);
    expect(axisLabels).toEqual(["step", "learning rate"]);
    expect(elements.filter((e) => e.attrs.class === "tick").length).toBeGreaterThanOrEqual(6);
  });

  it("plots one point per step that follows values(), read back through the axes", () => {
    const s = join(
      [
        warmup({ steps: 20, to: 0.1 }),
        swalr({ from: 0.1, to: 0.02, annealSteps: 30 }),
        cyclical({ high: 0.05, low: 0.01, cycle: 7 }),
      ],
      [20, 60],
    );
    const n = 120;
    const { points, X, Y } = render(s, n);
    const vs = values(s, n);
    expect(points.length).toBe(n);
    points.forEach(([x, y], i) => {
      expect(Math.abs(x - X(i))).toBeLessThanOrEqual(0.011);
      expect(Math.abs(y - Y(vs[i]!))).toBeLessThanOrEqual(0.011);
    });
  });

  it("thins long schedules but keeps each point on the curve and the extremes", () => {
    const s = cyclical({ high: 0.05, low: 0.001, cycle: 97 });
    const n = 20_000;
    const { points, X, Y } = render(s, n, { maxPoints: 400 });
    expect(points.length).toBeLessThanOrEqual(400);
    const vs = values(s, n);
    const pxPerStep = X(1) - X(0);
    for (const [x, y] of points) {
      // Invert x to a step: points sit at integer steps, so the nearest step within rounding.
      const step = Math.round((x - X(0)) / pxPerStep);
      const candidates = [step - 1, step, step + 1].filter((k) => k >= 0 && k < n);
      expect(
        candidates.some((k) => Math.abs(x - X(k)) <= 0.011 && Math.abs(y - Y(vs[k]!)) <= 0.011),
      ).toBe(true);
    }
    const ys = points.map(([, y]) => y);
    // The highest and lowest rates of the schedule are both drawn (y grows downwards).
    expect(Math.abs(Math.min(...ys) - Y(Math.max(...vs)))).toBeLessThanOrEqual(0.011);
    expect(Math.abs(Math.max(...ys) - Y(Math.min(...vs)))).toBeLessThanOrEqual(0.011);
  });

  it("handles a constant zero schedule and a single step", () => {
    const { points } = render(() => 0, 5);
    expect(points.length).toBe(5);
    expect(render(() => 0.1, 1).points.length).toBe(1);
  });

  it("rejects non-finite rates with the step that produced them", () => {
    expect(() => toSvg((s) => (s === 3 ? Number.NaN : 1), 5)).toThrow("schedule(3) is NaN");
  });
});

describe("svg helpers", () => {
  it("nice steps, ticks and labels", () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(0.05, 5)).toBe(0.01);
    expect(niceStep(7, 6)).toBe(2);
    expect(ticks(0, 0.05, 0.01).map((v) => formatTick(v, 0.01))).toEqual([
      "0.00",
      "0.01",
      "0.02",
      "0.03",
      "0.04",
      "0.05",
    ]);
    expect(formatTick(1e-4, 1e-4)).toBe("0.0001");
    expect(formatTick(2000, 500)).toBe("2000");
    expect(escapeXml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;");
  });
});
