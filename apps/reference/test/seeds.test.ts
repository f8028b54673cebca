import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Aggregate } from "../src/aggregate.js";
import { defaultConfig } from "../src/config.js";
import type { Report } from "../src/report.js";
import { parseSeeds, seedConfig } from "../src/seeds.js";
import { runCli, tempDir, tinyFlags } from "./helpers.js";

/** The tiny run, made tinier: the multi-seed test runs it several times. */
const flags = (out: string): string[] => [
  ...tinyFlags(out),
  "--plane-grid",
  "0",
  "--epochs",
  "3",
  "--swa-start",
  "2",
];

const read = <A>(file: string): A => JSON.parse(readFileSync(file, "utf8")) as A;

describe("wider --seeds: one run per seed and an aggregate from the same code path", () => {
  const base = tempDir("wider-seeds-");
  const out = join(base, "multi");
  const single = join(base, "single-seed-1");
  const docs = join(base, "results.md");
  let agg: Aggregate;

  beforeAll(async () => {
    writeFileSync(
      docs,
      "# Results\n\n<!-- experiment:begin -->\nold\n<!-- experiment:end -->\n\nkept\n",
    );
    const r = await runCli([
      ...flags(out),
      "--seeds",
      "0,1",
      "--jobs",
      "2",
      "--quiet",
      "--docs",
      docs,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    agg = read<Aggregate>(join(out, "aggregate.json"));
  }, 300_000);

  it("writes each seed's ordinary report and the aggregate files", () => {
    for (const s of [0, 1]) expect(existsSync(join(out, `seed-${s}`, "report.html"))).toBe(true);
    for (const f of ["aggregate.json", "aggregate.md", "aggregate.html"])
      expect(statSync(join(out, f)).size).toBeGreaterThan(200);
    expect(agg.seeds).toEqual([0, 1]);
    expect(agg.methods.map((m) => m.key)).toEqual(["pretrained", "sgd", "swa", "fge", "swag"]);
    // MultiSWAG over the two seeds' SWAG states, from their final checkpoints
    const multi = read<{ members: number; samples: number; accuracy: number; nll: number }>(
      join(out, "multiswag.json"),
    );
    expect(multi.members).toBe(2);
    expect(multi.samples).toBe(30);
    expect(agg.multiSwag?.nll).toBe(multi.nll);
    expect(Number.isFinite(multi.nll) && multi.accuracy > 0.5).toBe(true);
    expect(agg.findings.some((f) => f.startsWith("MultiSWAG (2 SWAG runs"))).toBe(true);
    expect(agg.findings.some((f) => f.startsWith("SWAG − SWA: NLL"))).toBe(true);
  });

  it("--docs writes the aggregate into the docs file's experiment section, with its plot beside it", () => {
    const text = readFileSync(docs, "utf8");
    expect(text).toContain("| SWA − SGD |");
    expect(text).not.toContain("\nold\n");
    expect(text.endsWith("<!-- experiment:end -->\n\nkept\n")).toBe(true);
    expect(text).toContain("](mlp-mnist-seeds.svg)");
    expect(readFileSync(join(base, "mlp-mnist-seeds.svg"), "utf8")).toMatch(/^<svg/);
    // The geometry figures: widths over both seeds, and the first seed's segment, rays and the
    // plane through three SWA-phase snapshots (the trajectory analysis).
    for (const name of ["widths", "segment", "rays"]) {
      expect(text).toContain(`](mlp-mnist-${name}.svg)`);
      expect(readFileSync(join(base, `mlp-mnist-${name}.svg`), "utf8")).toMatch(/^<svg/);
    }
    // This tiny run's SWA phase has too few proposals for a plane unless the seed computed one.
    const first = read<Report>(join(out, "seed-0", "report.json"));
    const planes = first.trajectory?.plane == null ? 0 : 1;
    expect(text.split("](mlp-mnist-trajectoryPlane").length - 1).toBe(2 * planes);
    // Every half-ray of both seeds is a point of the width plot (1 ray, 2 sides, 2 centers, 2 seeds).
    const widths = readFileSync(join(base, "mlp-mnist-widths.svg"), "utf8");
    expect(widths.match(/aria-roledescription="point"/g)?.length).toBe(8);
  });

  it("aggregates exactly the per-seed numbers (mean, sample std, paired difference)", () => {
    const reports = [0, 1].map((s) => read<Report>(join(out, `seed-${s}`, "report.json")));
    const swa = agg.methods.find((m) => m.key === "swa");
    const a = reports.map((r) => r.results.swa.accuracy);
    expect(swa?.accuracy.values).toEqual(a);
    expect(swa?.accuracy.mean).toBeCloseTo(((a[0] as number) + (a[1] as number)) / 2, 15);
    expect(swa?.accuracy.std).toBeCloseTo(
      Math.abs((a[0] as number) - (a[1] as number)) / Math.SQRT2,
      15,
    );
    const d = agg.comparisons.find((c) => c.a === "swa" && c.b === "sgd");
    expect(d?.accuracy.values).toEqual(
      reports.map((r) => r.results.swa.accuracy - r.results.sgd.accuracy),
    );
    expect(agg.findings.some((f) => f.startsWith("SWA − SGD"))).toBe(true);
    const lengths = reports.map((r) => {
      const plan = r.geometry.segment?.plan;
      return plan?.kind === "segment" ? plan.length : null;
    });
    expect(agg.sgdSwaDistance.values).toEqual(lengths);
    expect(lengths.every((l) => l !== null && l > 0)).toBe(true);
    expect(readFileSync(join(out, "aggregate.md"), "utf8")).toContain("| SWA − SGD |");
  });

  it("seed s is exactly the single run with the seed config (same code path)", async () => {
    const c = seedConfig(defaultConfig(), 1);
    const r = await runCli([
      ...flags(single),
      "--seed",
      String(c.seed),
      "--data-seed",
      String(c.dataSeed),
      "--geometry-seed",
      String(c.geometrySeed),
      "--quiet",
    ]);
    expect(r.code).toBe(0);
    const a = read<Report>(join(single, "report.json"));
    const b = read<Report>(join(out, "seed-1", "report.json"));
    expect(a.results).toEqual(b.results);
  }, 200_000);

  it("--resume keeps finished seeds and redoes a missing one, to the same aggregate", async () => {
    const before = read<Report>(join(out, "seed-0", "report.json"));
    rmSync(join(out, "seed-1"), { recursive: true });
    const r = await runCli(["--resume", "--out", out, "--seeds", "0,1", "--quiet"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("seed 0: finished earlier");
    expect(read<Report>(join(out, "seed-0", "report.json")).createdAt).toBe(before.createdAt);
    const again = read<Aggregate>(join(out, "aggregate.json"));
    expect(again.methods).toEqual(agg.methods);
  }, 200_000);

  it("refuses bad --seeds and --jobs, and --jobs without --seeds, in one line", async () => {
    expect(() => parseSeeds("0,x")).toThrow(/--seeds: "0,x" is not allowed/);
    expect(() => parseSeeds("1,1")).toThrow(/repeats a seed/);
    const r = await runCli([...flags(join(base, "bad")), "--jobs", "2"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("add --seeds");
  });
});
