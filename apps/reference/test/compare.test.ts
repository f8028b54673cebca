/**
 * `compare.ts` on small synthetic runs: a Wider aggregate written by the real `aggregate()` from
 * synthetic seed reports, twin seed files, the side-by-side table, the paired differences, the
 * two-standard-error flag, the config drift refusal and the docs section.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { aggregate, type SeedReport } from "../src/aggregate.js";
import { compareMetric, compareRuns, parseCompareArgs } from "../src/compare.js";
import { claimLines, compareClaims, welchP } from "../src/compareClaims.js";
import { configDrift, readTwin, type Side } from "../src/compareRead.js";
import { summarize } from "../src/stats.js";

type M = { accuracy: number; nll: number; ece: number; brier: number };
const metric = (accuracy: number, nll: number): M => ({ accuracy, nll, ece: 0.02, brier: 0.1 });

const seedReport = (seed: number, results: Record<string, M>): SeedReport => ({
  tool: "wider",
  config: { seed, dataSeed: 1 + seed, out: `run/seed-${seed}` },
  backend: { name: "wasm" },
  dataset: { name: "fashion-mnist", trainUsed: 60000, trainTotal: 60000, testUsed: 10000 },
  model: { name: "mlp", parameters: 535818 },
  results,
  geometry: { rays: { widthSgd: null, widthSwa: null }, segment: null },
  seconds: { sgd: 10, swa: 12, fge: 2 },
});

const baseConfig = { dataset: "fashion-mnist", epochs: 40, swaStart: 32, dataSeed: 1, lr: 0.05 };

const setup = async (twinSwaShift: number, twinConfig: Record<string, unknown> = {}) => {
  const dir = await mkdtemp(join(tmpdir(), "wider-compare-"));
  const wider = join(dir, "wider");
  const twin = join(dir, "twin");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(wider);
  await mkdir(twin);
  const seeds = [0, 1, 2];
  // Wider: SGD 0.90, 0.91, 0.92; SWA 0.91, 0.93, 0.92 (SWA − SGD = 0.01, 0.02, 0.00).
  const sgd = [0.9, 0.91, 0.92];
  const swa = [0.91, 0.93, 0.92];
  const reports = seeds.map((s) =>
    seedReport(s, {
      sgd: metric(sgd[s] as number, 0.3),
      swa: metric(swa[s] as number, 0.28 + 0.01 * s),
    }),
  );
  const agg = aggregate(
    seeds,
    seeds.map((s) => `run/seed-${s}`),
    reports,
  );
  await writeFile(join(wider, "aggregate.json"), JSON.stringify(agg));
  await writeFile(join(wider, "seeds.json"), JSON.stringify(baseConfig));
  for (const s of seeds)
    await writeFile(
      join(twin, `seed-${s}.json`),
      JSON.stringify({
        tool: "wider-twin",
        seed: s,
        config: { ...baseConfig, dataSeed: 1 + s, seed: s, ...twinConfig },
        torch: "1.13.1",
        dataset: { name: "fashion-mnist", trainUsed: 60000, testUsed: 10000 },
        model: { name: "mlp" },
        results: {
          sgd: metric(sgd[s] as number, 0.3),
          swa: metric((swa[s] as number) + twinSwaShift, 0.28 + 0.01 * s),
        },
        seconds: { total: 100 + s },
      }),
    );
  const docs = join(dir, "results.md");
  await writeFile(docs, "# Results\n\n<!-- twin:begin -->\nold\n<!-- twin:end -->\n\nafter\n");
  return { wider, twin, docs };
};

describe("compareMetric", () => {
  it("flags means more than two combined standard errors apart, and only those", () => {
    // means 1 and 0, variances 2/3 and 2/3, n 4 and 4: SE = sqrt(1/6 + 1/6) = 0.5774, 2 SE = 1.155 > 1.
    const a = compareMetric("swa", "accuracy", [0, 1, 2, 1], [-1, 0, 1, 0]);
    expect(a.difference).toBeCloseTo(1, 12);
    expect(a.standardError).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(a.differs).toBe(false);
    // shift by 0.2 more: 1.2 > 1.155.
    expect(compareMetric("swa", "accuracy", [0.2, 1.2, 2.2, 1.2], [-1, 0, 1, 0]).differs).toBe(
      true,
    );
    // a missing side is never flagged
    expect(compareMetric("swa", "nll", [1, 2], [null, null]).differs).toBe(false);
  });
});

describe("configDrift", () => {
  it("accepts the twin's per-seed dataSeed and seed, and names any other difference", () => {
    expect(
      configDrift(baseConfig, [{ seed: 2, config: { ...baseConfig, dataSeed: 3, seed: 2 } }]),
    ).toEqual([]);
    const d = configDrift(baseConfig, [{ seed: 0, config: { ...baseConfig, epochs: 3, seed: 0 } }]);
    expect(d).toHaveLength(1);
    expect(d[0]).toContain("epochs (Wider 40, twin seed 0 3)");
  });
});

describe("compareRuns on synthetic runs", () => {
  it("writes the side-by-side table and paired differences into the docs section", async () => {
    const { wider, twin, docs } = await setup(0);
    const md = await compareRuns([{ wider, twin }], { docs, command: "compare test" });
    // Wider SWA accuracy: mean 92.00, std 1.00 (values 91, 93, 92); twin identical.
    expect(md).toContain("| SWA | 92.00 ± 1.00 | 92.00 ± 1.00 |");
    expect(md).toContain("| SGD | 91.00 ± 1.00 | 91.00 ± 1.00 |");
    // SWA − SGD accuracy on both sides: +1.00 ± 1.00 points, t = sqrt 3, df 2: p = 1 - t / sqrt(t² + 2) = 0.225.
    expect(md).toContain("| SWA − SGD | Wider | +1.00 ± 1.00 | 0.23 |");
    expect(md).toContain("| SWA − SGD | twin | +1.00 ± 1.00 | 0.23 |");
    expect(md).toContain("No method's mean differs");
    expect(md).toContain("101 ± 1 s per seed"); // the twin's wall time: 100, 101, 102
    const text = await readFile(docs, "utf8");
    expect(text.startsWith("# Results\n\n<!-- twin:begin -->\nCommand: `compare test`")).toBe(true);
    expect(text.endsWith("<!-- twin:end -->\n\nafter\n")).toBe(true);
    expect(text).not.toContain("\nold\n");
  });

  it("names a method whose means differ by more than two combined standard errors", async () => {
    const { wider, twin } = await setup(-0.03); // twin SWA 3 points lower; 2 SE = 2 * 0.816 points
    const md = await compareRuns([{ wider, twin }], { docs: null, command: "c" });
    expect(md).toContain("| SWA | 92.00 ± 1.00 (*) | 89.00 ± 1.00 |");
    expect(md).toMatch(
      /- SWA accuracy: Wider 92\.00 ± 1\.00 vs twin 89\.00 ± 1\.00; difference 3\.00, two combined standard errors 1\.63\./,
    );
    expect(md).not.toContain("- SGD accuracy");
  });

  it("refuses a twin that ran another configuration, naming the field", async () => {
    const { wider, twin } = await setup(0, { epochs: 3 });
    await expect(compareRuns([{ wider, twin }], { docs: null, command: "c" })).rejects.toThrow(
      /ran another configuration.*epochs \(Wider 40, twin seed 0 3\)/,
    );
  });

  it("reads the twin's seeds in seed order and names a missing directory", async () => {
    const { twin } = await setup(0);
    expect((await readTwin(twin)).side.seeds).toEqual([0, 1, 2]);
    await expect(readTwin(join(twin, "nope"))).rejects.toThrow(/pass the twin's --out/);
  });
});

describe("parseCompareArgs", () => {
  it("pairs --wider and --twin in order and refuses unpaired or unknown flags", () => {
    expect(parseCompareArgs(["--wider", "a", "--twin", "b", "--docs", "d.md"])).toEqual({
      pairs: [{ wider: "a", twin: "b" }],
      docs: "d.md",
    });
    expect(parseCompareArgs(["--", "--wider", "a", "--twin", "b"]).pairs).toEqual([
      { wider: "a", twin: "b" },
    ]);
    expect(() => parseCompareArgs(["--wider", "a"])).toThrow(
      /give each --wider directory its --twin/,
    );
    expect(() => parseCompareArgs(["--wider", "a", "--twin", "b", "--x", "1"])).toThrow(
      /unknown option --x/,
    );
    expect(() => parseCompareArgs(["--wider"])).toThrow(/missing its value/);
  });
});

describe("compareClaims", () => {
  const side = (label: string, swa: number[], fge: number[]): Side => ({
    seeds: [0, 1, 2, 3],
    values: {
      sgd: { accuracy: [0.9, 0.9, 0.9, 0.9], nll: [0.3, 0.3, 0.3, 0.3], ece: [0, 0, 0, 0] },
      swa: { accuracy: swa, nll: [0.29, 0.28, 0.29, 0.28], ece: [0, 0, 0, 0] },
      fge: { accuracy: fge, nll: [0.27, 0.27, 0.27, 0.27], ece: [0, 0, 0, 0] },
    },
    seconds: summarize([1, 1, 1, 1]),
    label,
    dataset: { name: "d", trainUsed: 1, testUsed: 1 },
    model: "mlp",
  });

  it("states each claim per side from the paired differences, and whether the sides agree", () => {
    // Wider: SWA − SGD = 1, 2, 1, 2 points: mean 1.5, std 0.577, t = 5.196, df 3, p = 0.0138.
    const wider = side("Wider", [0.91, 0.92, 0.91, 0.92], [0.912, 0.922, 0.912, 0.922]);
    // twin: SWA − SGD = 1, -1, 1, -1 points: mean 0 (does not hold); FGE 1 point above SWA.
    const twin = side("twin", [0.91, 0.89, 0.91, 0.89], [0.92, 0.9, 0.92, 0.9]);
    const claims = compareClaims(wider, twin);
    expect(claims.map((c) => c.text.slice(0, 20))).toEqual([
      "SWA beats SGD at equ",
      "SWA improves NLL ove",
      "SWA matches FGE with",
    ]); // no swaExtended on either side: that claim is left out
    const [beats, nll, fge] = claims;
    expect(beats?.wider.holds).toBe(true);
    expect(beats?.wider.p).toBeCloseTo(0.0138, 3);
    expect(beats?.twin.holds).toBe(false);
    // NLL: −0.01, −0.02, −0.01, −0.02 on both sides: significant, holds in both.
    expect(nll?.wider.holds && nll.twin.holds).toBe(true);
    expect(fge?.wider.holds).toBe(true); // 0.2 points
    expect(fge?.twin.holds).toBe(false); // 1 point
    const lines = claimLines(wider, twin);
    expect(lines[0]).toContain("Wider holds (+1.50 ± 0.58 points, 4 seeds, p = 0.014)");
    expect(lines[0]).toContain("twin does NOT hold (+0.00 ± 1.15 points, 4 seeds, p = 1.0)");
    // Welch on the two sides' differences (1, 2, 1, 2 vs 1, -1, 1, -1 points): t = 2.324,
    // df 4.41, p = 0.0747 (scipy.stats.ttest_ind(equal_var=False)): verdicts differ, effects do not.
    expect(beats?.effectsDifferP).toBeCloseTo(0.0747, 3);
    expect(lines[0]).toContain(
      "The verdicts differ but the two effects do not (Welch p = 0.075): the claim is at the edge of significance",
    );
    expect(lines[0]).not.toContain("DISAGREE");
    // FGE − SWA: 0.2 points on every Wider seed vs 1 point on every twin seed (no spread): differ.
    expect(fge?.effectsDifferP).toBe(0);
    expect(lines[2]).toContain(
      "Wider and the twin DISAGREE on this claim (the two effects differ, Welch p = 0.0): to be explained",
    );
    expect(lines[1]).toContain("Wider and the twin agree");
  });

  it("welchP: Welch's two-sided test on the sides' summaries", () => {
    // scipy.stats.ttest_ind([0.18, 0.07, 0.29], [0.22, 0.14, 0.30], equal_var=False): p = 0.6397
    const mk = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
      return { mean: m, std: sd, p: null, n: xs.length, holds: null };
    };
    expect(welchP(mk([0.18, 0.07, 0.29]), mk([0.22, 0.14, 0.3]))).toBeCloseTo(0.6397, 4);
    expect(welchP(mk([1]), mk([1, 2]))).toBeNull();
  });
});
