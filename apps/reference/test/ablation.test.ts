/** `ablation.ts` on synthetic cells written by the real `aggregate()`: the table, best/worst, errors. */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ablation, parseAblationArgs, sgdConsistency } from "../src/ablation.js";
import { aggregate, type SeedReport } from "../src/aggregate.js";
import type { PairedDifference } from "../src/stats.js";

type M = { accuracy: number; nll: number; ece: number; brier: number };
const metric = (accuracy: number, nll: number): M => ({ accuracy, nll, ece: 0.02, brier: 0.1 });

const seedReport = (seed: number, sgd: M, swa: M): SeedReport => ({
  tool: "wider",
  config: { seed, dataSeed: 1 + seed, out: `run/seed-${seed}` },
  backend: { name: "wasm" },
  dataset: { name: "fashion-mnist", trainUsed: 60000, trainTotal: 60000, testUsed: 10000 },
  model: { name: "mlp", parameters: 535818 },
  results: { sgd, swa },
  geometry: { rays: { widthSgd: null, widthSwa: null }, segment: null },
  seconds: { sgd: 10, swa: 12 },
});

/** A cell whose SWA − SGD accuracy per seed is `gains` (points / 100) and NLL −0.01 each. */
const cell = async (root: string, swaLr: number, augment: string, gains: number[]) => {
  const dir = join(root, `cell-${swaLr}-${augment}`);
  await mkdir(dir);
  const seeds = gains.map((_, i) => i);
  const reports = seeds.map((s) =>
    seedReport(s, metric(0.9, 0.3), metric(0.9 + (gains[s] as number), 0.29)),
  );
  const agg = aggregate(
    seeds,
    seeds.map((s) => `run/seed-${s}`),
    reports,
  );
  await writeFile(join(dir, "aggregate.json"), JSON.stringify(agg));
  await writeFile(join(dir, "seeds.json"), JSON.stringify({ swaLr, augment }));
  return dir;
};

describe("ablation", () => {
  it("tables every cell's SWA − SGD and names the best and the worst with the spread", async () => {
    const root = await mkdtemp(join(tmpdir(), "wider-ablation-"));
    const a = await cell(root, 0.01, "none", [0.001, 0.002, 0.003]); // +0.20 ± 0.10 points
    const b = await cell(root, 0.05, "crop-flip", [-0.004, -0.002, -0.003]); // −0.30 ± 0.10
    const docs = join(root, "results.md");
    await writeFile(docs, "x\n<!-- ablation:begin -->\nold\n<!-- ablation:end -->\ny\n");
    const md = await ablation([a, b], { docs, command: "pnpm ablation" });
    // df 2: p = 1 − t / sqrt(t² + 2); t = 0.2 / (0.1 / sqrt 3) = 3.464: p = 0.0742; t = 5.196: p = 0.0351.
    expect(md).toContain("| 0.01 | none | 0, 1, 2 | 90.00 | 90.20 | +0.20 ± 0.10 | 0.074 |");
    expect(md).toContain("| 0.05 | crop-flip | 0, 1, 2 | 90.00 | 89.70 | -0.30 ± 0.10 | 0.035 |");
    expect(md).toContain("Best cell (SWA − SGD accuracy): swaLr 0.01, augment none, +0.20 ± 0.10");
    expect(md).toContain("Worst: swaLr 0.05, augment crop-flip, -0.30 ± 0.10");
    expect(md).toContain("The spread between them is 0.50 points.");
    const text = await readFile(docs, "utf8");
    expect(text).toContain("<!-- ablation:begin -->\nCommand: `pnpm ablation`");
    expect(text).not.toContain("\nold\n");
  });

  it("names a cell directory that is not a finished multi-seed run", async () => {
    const root = await mkdtemp(join(tmpdir(), "wider-ablation-"));
    await expect(ablation([join(root, "nope")], { docs: null, command: "c" })).rejects.toThrow(
      /aggregate\.json.*run the seeds first/,
    );
    await expect(ablation([], { docs: null, command: "c" })).rejects.toThrow(/no --cell given/);
  });

  it("parses --cell (repeated) and --docs and refuses anything else", () => {
    expect(parseAblationArgs(["--", "--cell", "a", "--cell", "b", "--docs", "d.md"])).toEqual({
      cells: ["a", "b"],
      docs: "d.md",
      seeds: null,
    });
    expect(parseAblationArgs(["--cell", "a", "--seeds", "0, 2,1"]).seeds).toEqual([0, 2, 1]);
    expect(() => parseAblationArgs(["--cells", "a"])).toThrow(/unknown argument "--cells"/);
    expect(() => parseAblationArgs(["--cell"])).toThrow(/--cell needs a value/);
    expect(() => parseAblationArgs(["--seeds", "0,x"])).toThrow(/not a list of distinct seeds/);
    expect(() => parseAblationArgs(["--seeds", "0,0"])).toThrow(/not a list of distinct seeds/);
  });

  it("--seeds restricts every cell to those seeds (a 5-seed run can stand as a 3-seed cell)", async () => {
    const root = await mkdtemp(join(tmpdir(), "wider-ablation-"));
    // seeds 3 and 4 would pull the mean to 0: restricted to 0..2 it is +0.20 ± 0.10 as above.
    const a = await cell(root, 0.01, "none", [0.001, 0.002, 0.003, -0.003, -0.003]);
    const b = await cell(root, 0.05, "none", [0.001, 0.001, 0.001]);
    const md = await ablation([a, b], { docs: null, command: "c", seeds: [0, 1, 2] });
    expect(md).toContain("| 0.01 | none | 0, 1, 2 | 90.00 | 90.20 | +0.20 ± 0.10 | 0.074 |");
    expect(md).toContain(
      "SGD check (augment none): the 2 cells' SGD runs agree exactly on all 3 shared seed pairs",
    );
    await expect(ablation([a, b], { docs: null, command: "c", seeds: [0, 3] })).rejects.toThrow(
      /cell-0.05-none has no seed 3 \(it has 0, 1, 2\)/,
    );
  });

  it("says when cells with the same augmentation report different SGD runs", () => {
    const d = { mean: 0, std: 0, p: null, n: 2 } as unknown as PairedDifference; // not read here
    const base = {
      dir: "x",
      augment: "none",
      accuracy: d,
      nll: d,
      sgdAccuracy: 0.9,
      swaAccuracy: 0.9,
    };
    const lines = sgdConsistency([
      { ...base, swaLr: 0.01, seeds: [0, 1], sgd: { accuracy: [0.9, 0.91], nll: [0.3, 0.31] } },
      { ...base, swaLr: 0.05, seeds: [1, 0], sgd: { accuracy: [0.91, 0.9025], nll: [0.31, 0.3] } },
    ]);
    expect(lines).toEqual([
      "SGD check (augment none): the cells' SGD runs differ (largest |Δ accuracy| 0.25 points, |Δ NLL| 0.0 over 2 seed pairs) although SGD does not depend on swaLr: the cells were not run with the same code or backend.",
    ]);
  });

  it("refuses cells whose configs differ beyond swaLr, augment, geometry, SWAG and swaExtend", async () => {
    const root = await mkdtemp(join(tmpdir(), "wider-ablation-"));
    const a = await cell(root, 0.01, "none", [0.001, 0.002, 0.003]);
    const b = await cell(root, 0.05, "none", [0.001, 0.001, 0.001]);
    await writeFile(
      join(a, "seeds.json"),
      JSON.stringify({ swaLr: 0.01, augment: "none", epochs: 40, rays: 10, swaExtend: 10 }),
    );
    await writeFile(
      join(b, "seeds.json"),
      JSON.stringify({ swaLr: 0.05, augment: "none", epochs: 40, rays: 0, workers: 1 }),
    );
    await expect(ablation([a, b], { docs: null, command: "c" })).resolves.toContain("| 0.05 |");
    await writeFile(
      join(b, "seeds.json"),
      JSON.stringify({ swaLr: 0.05, augment: "none", epochs: 20 }),
    );
    await expect(ablation([a, b], { docs: null, command: "c" })).rejects.toThrow(
      /differs from .*cell-0.01-none in epochs \(40 vs 20\); the cells may differ only in swaLr and augment/,
    );
  });
});
