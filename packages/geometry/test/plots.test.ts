import { orThrow } from "@wider/errors";
import { disposeWeights, lerp } from "@wider/weights";
import * as vega from "vega";
import { describe, expect, it } from "vitest";
import {
  contourLevels,
  disposePlan,
  evaluatePlanWith,
  linspace,
  type PlanResults,
  planeContourSpec,
  planeContourSvg,
  planeThrough,
  planeTrajectorySpec,
  planeTrajectorySvg,
  projectAllOnto,
  randomDirection,
  rayFrom,
  rayPlotSvg,
  renderVegaLiteToSvg,
  segment,
  segmentPlotSvg,
} from "../src/index.js";
import { bowlLoss, pseudoRandom, weightsOf } from "./quadratic.js";

/** Checks that every tag is closed in order; returns the element names seen. */
const wellFormed = (svg: string): string[] => {
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  const stack: string[] = [];
  const names: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:[^>"]|"[^"]*")*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (close) {
      expect(stack.pop()).toBe(name);
    } else {
      names.push(name!);
      if (!self) stack.push(name!);
    }
  }
  expect(stack).toEqual([]);
  return names;
};

const w1 = weightsOf(pseudoRandom(1));
const w2 = weightsOf(pseudoRandom(2));
const w3 = weightsOf(pseudoRandom(3));

const planeResults = async (metric: (x: number, y: number) => number): Promise<PlanResults> => {
  const plan = orThrow(planeThrough(w1, w2, w3, { grid: 11 }));
  const r = orThrow(
    await evaluatePlanWith(plan, (w, p) => {
      const { x, y } = p as { x: number; y: number };
      return { trainLoss: metric(x, y), bowl: bowlLoss(w) };
    }),
  );
  disposePlan(plan);
  return r;
};

describe("renderVegaLiteToSvg", () => {
  it("renders a Vega-Lite spec to a well-formed SVG in Node", async () => {
    const svg = await renderVegaLiteToSvg({
      data: {
        values: [
          { x: 0, y: 1 },
          { x: 1, y: 3 },
        ],
      },
      mark: "line",
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
      },
    });
    expect(wellFormed(svg)).toContain("path");
    expect(svg).toContain('class="mark-line role-mark marks"');
  });
});

describe("line plots", () => {
  it("draws every ray thin and one bold mean per group", async () => {
    const groups = [];
    for (const [label, seed0] of [
      ["SWA", 0],
      ["SGD", 10],
    ] as const) {
      const rays: PlanResults[] = [];
      for (let s = 0; s < 3; s++) {
        const d = randomDirection(w1, seed0 + s);
        const plan = orThrow(rayFrom(w1, d, linspace(-2, 2, 9)));
        rays.push(orThrow(await evaluatePlanWith(plan, (w) => ({ trainLoss: bowlLoss(w) }))));
        disposePlan(plan);
        disposeWeights(d);
      }
      groups.push({ label, rays });
    }
    const svg = await rayPlotSvg(groups, { metric: "trainLoss", logY: true }, { title: "rays" });
    wellFormed(svg);
    // 6 thin, faint ray lines (layer 0) and 2 bold means (layer 1, stroke-width 3.5).
    expect(svg.match(/class="mark-line role-mark layer_0_marks"/g)?.length).toBe(6);
    expect(svg.match(/class="mark-line role-mark layer_1_marks"/g)?.length).toBe(2);
    expect(svg.match(/<path[^>]*ray: [^>]*opacity="0.35"/g)?.length).toBe(6);
    expect(svg.match(/<path[^>]*stroke-width="3.5"/g)?.length).toBe(2);
    expect(svg).toContain(">SWA<");
    expect(svg).toContain(">SGD<");
  });

  it("draws a segment's two metrics on two axes with its ends labelled", async () => {
    const plan = orThrow(segment(w1, w2, linspace(-0.5, 1.5, 9)));
    const r = orThrow(
      await evaluatePlanWith(plan, (w) => ({
        trainLoss: bowlLoss(w),
        testError: bowlLoss(w) / 100,
      })),
    );
    disposePlan(plan);
    const svg = await segmentPlotSvg(
      r,
      [{ metric: "testError", percent: true }, { metric: "trainLoss" }],
      {
        endLabels: ["SWA", "SGD"],
      },
    );
    wellFormed(svg);
    expect(svg).toContain(">SWA<");
    expect(svg).toContain(">SGD<");
    expect(svg).toContain("testError (%)");
    expect(svg.match(/class="mark-line role-mark/g)?.length).toBe(2);
    expect(svg.match(/class="mark-rule role-mark/g)?.length).toBe(1);
  });
});

describe("plane plots", () => {
  it("uses the authors' log-spaced levels, increasing, from min to max", () => {
    const l = contourLevels(0.01, 5, 7, -5);
    expect(l).toHaveLength(8);
    expect(l[0]).toBe(0.01);
    expect(l[7]).toBe(5);
    expect(l[1]).toBeCloseTo(0.01 + Math.exp(-5 + (Math.log(4.99) + 5) / 7), 12);
    const tiny = contourLevels(1, 1.001);
    for (let k = 1; k < tiny.length; k++) expect(tiny[k]!).toBeGreaterThan(tiny[k - 1]!);
  });

  it("draws filled contours, the three points and their labels in a well-formed SVG", async () => {
    const r = await planeResults((x, y) => x * x + y * y);
    const svg = await planeContourSvg(r, {
      metric: "trainLoss",
      cap: 5,
      labels: ["SWA", "SGD 1", "SGD 2"],
    });
    const names = wellFormed(svg);
    expect(names.filter((n) => n === "path").length).toBeGreaterThanOrEqual(8);
    expect(svg).toContain('class="mark-shape role-mark bands"');
    expect(svg).toContain('class="mark-symbol role-mark anchorPoints"');
    for (const label of ["SWA", "SGD 1", "SGD 2"]) expect(svg).toContain(`>${label}<`);
  });

  it("places the contours where the values are: the disk around w3 of a distance-to-w3 metric", async () => {
    const probe = orThrow(planeThrough(w1, w2, w3, { grid: 11 }));
    const [x3, y3] = probe.anchors[2];
    disposePlan(probe);
    const r = await planeResults((x, y) => Math.hypot(x - x3, y - y3));
    const view = new vega.View(vega.parse(planeContourSpec(r, { metric: "trainLoss" })), {
      renderer: "none",
    });
    await view.runAsync();
    const xs = view.scale("x") as (v: number) => number;
    const ys = view.scale("y") as (v: number) => number;
    const contours = view.data("grid") as {
      contour: { value: number; coordinates: number[][][][] };
    }[];
    // The region >= the second level excludes a disk around w3: its hole's centroid is w3's pixel.
    const second = contours.find((c) => c.contour.coordinates.some((poly) => poly.length > 1))!;
    const hole = second.contour.coordinates.flatMap((poly) => poly.slice(1))[0]!;
    const cx = hole.reduce((s, p) => s + p[0]!, 0) / hole.length;
    const cy = hole.reduce((s, p) => s + p[1]!, 0) / hole.length;
    if (r.plan.kind !== "plane") throw new Error("expected a plane");
    const cell = Math.abs(xs(r.plan.xs[1]!) - xs(r.plan.xs[0]!));
    expect(Math.abs(cx - xs(x3))).toBeLessThan(cell);
    expect(Math.abs(cy - ys(y3))).toBeLessThan(cell);
    view.finalize();
  });

  it("colors the levels with vega's own schemes without loading vega (vega-scale)", async () => {
    const r = await planeResults((x, y) => x * x + y * y);
    for (const name of ["turbo", "viridis", "blues"]) {
      const spec = planeContourSpec(r, { metric: "trainLoss", scheme: name });
      const fill = spec.scales?.find((s) => s.name === "fill") as
        | { domain: number[]; range: string[] }
        | undefined;
      const n = Math.max(fill!.domain.length - 1, 1);
      // Oracle: vega's `scheme` (vega is a dev dependency here, an optional peer for users).
      const interp = vega.scheme(name) as (t: number) => string;
      expect(fill!.range).toEqual(fill!.domain.map((_, k) => interp(0.1 + 0.85 * (1 - k / n))));
    }
    expect(() => planeContourSpec(r, { metric: "trainLoss", scheme: "no-such" })).toThrow(
      /unknown Vega color scheme "no-such"/,
    );
  });

  it("refuses incomplete results", async () => {
    const r = await planeResults((x) => x);
    const partial = { ...r, results: r.results.slice(0, 5), complete: false };
    expect(() => planeContourSpec(partial, { metric: "trainLoss" })).toThrow(/finish \(resume\)/);
  });
});

describe("plane trajectory plot", () => {
  /** The numbers of an SVG path's `d` made of M/L commands, as [x, y] pairs. */
  const vertices = (d: string): [number, number][] =>
    [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

  it("draws projected points in order on the contour, dots and labels at their coordinates, anchors on top", async () => {
    const plan = orThrow(planeThrough(w1, w2, w3, { grid: 11 }));
    const results = orThrow(await evaluatePlanWith(plan, (w) => ({ trainLoss: bowlLoss(w) })));
    // A path w1 -> (w1 + w2) / 2 -> w2 -> w3, projected: the anchors' coordinates and a midpoint.
    const mid = lerp(w1, w2, 0.5);
    const path = orThrow(projectAllOnto(plan, [w1, mid, w2, w3]));
    disposeWeights(mid);
    disposePlan(plan);
    const [[x2], [x3, y3]] = [plan.anchors[1], plan.anchors[2]];
    const want = [
      [0, 0],
      [x2 / 2, 0],
      [x2, 0],
      [x3, y3],
    ];
    path.forEach((p, i) => {
      expect(Math.abs(p.x - want[i]![0]!)).toBeLessThan(1e-5 * x2);
      expect(Math.abs(p.y - want[i]![1]!)).toBeLessThan(1e-5 * x2);
    });
    const trajectory = path.map((p, i) => ({ ...p, label: `step ${i}` }));
    const spec = planeTrajectorySpec(results, trajectory, {
      metric: "trainLoss",
      trajectoryColor: "#111111",
    });
    const marks = (spec.marks ?? []).map((m) => m.name);
    expect(marks).toEqual([
      "bands",
      "trajectoryLine",
      "trajectoryPoints",
      "trajectoryLabels",
      "anchorPoints",
      "anchorLabels",
    ]);
    const data = (spec.data ?? []).find((d) => d.name === "trajectory") as { values: unknown[] };
    expect(data.values).toEqual(
      trajectory.map((p, order) => ({ order, x: p.x, y: p.y, label: p.label })),
    );

    const svg = await planeTrajectorySvg(results, trajectory, {
      metric: "trainLoss",
      trajectoryColor: "#111111",
    });
    wellFormed(svg);
    // Pixel positions from the plot's scales: cells of the 11 x 11 grid, y pointing up.
    if (results.plan.kind !== "plane") throw new Error("a plane's results expected");
    const { xs, ys } = results.plan;
    const [dx, dy] = [xs[1]! - xs[0]!, ys[1]! - ys[0]!];
    const px = (x: number) => ((x - (xs[0]! - dx / 2)) / (xs[10]! - xs[0]! + dx)) * 420;
    const py = (y: number) => 420 - ((y - (ys[0]! - dy / 2)) / (ys[10]! - ys[0]! + dy)) * 420;
    const line =
      /class="mark-line role-mark trajectoryLine"[^>]*><path d="([^"]+)"[^>]*stroke="#111111"/.exec(
        svg,
      );
    expect(line).not.toBeNull();
    const drawn = vertices(line![1]!);
    expect(drawn.length).toBe(4); // connected in the given order
    drawn.forEach(([x, y], i) => {
      expect(Math.abs(x - px(path[i]!.x))).toBeLessThan(0.01);
      expect(Math.abs(y - py(path[i]!.y))).toBeLessThan(0.01);
    });
    const dots = /class="mark-symbol role-mark trajectoryPoints"[^>]*>(.*?)<\/g>/.exec(svg)![1]!;
    const centres = [...dots.matchAll(/translate\((-?[\d.]+),(-?[\d.]+)\)/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(centres.length).toBe(4);
    centres.forEach(([x, y], i) => {
      expect(Math.abs(x! - px(path[i]!.x))).toBeLessThan(1e-6);
      expect(Math.abs(y! - py(path[i]!.y))).toBeLessThan(1e-6);
    });
    for (const label of ["step 0", "step 1", "step 2", "step 3", "w1", "w2", "w3"]) {
      expect(svg).toContain(`>${label}</text>`);
    }
  });

  it("refuses an empty trajectory and non-finite coordinates", async () => {
    const r = await planeResults((x, y) => x * x + y * y);
    expect(() => planeTrajectorySpec(r, [], { metric: "trainLoss" })).toThrow(
      /trajectory is empty/,
    );
    expect(() =>
      planeTrajectorySpec(
        r,
        [
          { x: 0, y: 0 },
          { x: Number.NaN, y: 1 },
        ],
        { metric: "trainLoss" },
      ),
    ).toThrow(/trajectory\[1\] is at \(NaN, 1\)/);
  });
});
