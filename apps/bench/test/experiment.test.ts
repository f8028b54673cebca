import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExperimentReport } from "../src/experiment/aggregate.js";
import { summarize } from "../src/experiment/aggregate.js";
import { parseExperimentCli } from "../src/experiment/cli.js";
import { budgetOf, fullExperiment, smokeExperiment } from "../src/experiment/config.js";
import { runExperiment } from "../src/experiment/run.js";

const hasData = existsSync("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");

describe("budgetOf", () => {
  it("puts the branch point so SWA and FGE cycles end exactly at B", () => {
    const b = budgetOf(fullExperiment, 60_000);
    expect(b).toEqual({ stepsPerEpoch: 468, budget: 1404, start: 1044, extendedEnd: 1755 });
    expect((b.budget - b.start) % fullExperiment.swaEvery).toBe(0);
    expect((b.budget - b.start) % fullExperiment.fgeCycle).toBe(0);
  });

  it("refuses a budget shorter than one cycle", () => {
    expect(() => budgetOf({ ...fullExperiment, epochs: 1 }, 100)).toThrow(/too short/);
  });
});

describe("summarize", () => {
  it("gives the mean and the sample standard deviation of the finite values", () => {
    const s = summarize([1, 2, 3, null]);
    expect(s.mean).toBe(2);
    expect(s.std).toBeCloseTo(1, 12);
    expect(summarize([null]).mean).toBeNull();
  });
});

describe("parseExperimentCli", () => {
  it("knows one experiment and names it in the error", () => {
    expect(() => parseExperimentCli(["cifar10"])).toThrow(/pnpm experiment fashion-mnist/);
  });

  it("reads seeds, epochs and jobs", () => {
    const cli = parseExperimentCli([
      "fashion-mnist",
      "--seeds",
      "3,4",
      "--epochs",
      "2",
      "--jobs",
      "2",
    ]);
    expect(cli.kind).toBe("run");
    if (cli.kind !== "run") return;
    expect(cli.config.seeds).toEqual([3, 4]);
    expect(cli.config.epochs).toBe(2);
    expect(cli.command).toBe("pnpm experiment fashion-mnist --seeds 3,4 --epochs 2 --jobs 2");
    expect(cli.docs?.endsWith("docs/results.md")).toBe(true);
  });
});

describe.skipIf(!hasData)(
  "pnpm experiment fashion-mnist --smoke (2 seeds in 2 worker processes)",
  () => {
    let dir: string;
    let report: ExperimentReport;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "wider-experiment-test-"));
      report = await runExperiment(
        { ...smokeExperiment, trainSubset: 384, testSubset: 128, jobs: 2 },
        { outDir: dir, prefix: "fm", docs: join(dir, "doc.md"), command: "test", log: () => {} },
      );
    }, 120_000);

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("reports every method on every seed with finite metrics", async () => {
      const json = JSON.parse(await readFile(join(dir, "fm.json"), "utf8")) as ExperimentReport;
      expect(json.format).toBe("wider-experiment");
      expect(json.seeds.map((s) => s.seed)).toEqual([0, 1]);
      expect(json.methods.map((m) => `${m.key}@${m.budget}`)).toEqual([
        "sgd@1",
        "swa@1",
        "swaExtended@1.25",
        "fge@1",
      ]);
      for (const m of json.methods) {
        expect(m.accuracy.values).toHaveLength(2);
        for (const v of m.accuracy.values) expect(v).toBeGreaterThan(0);
        for (const v of m.nll.values) expect(Number.isFinite(v) && (v as number) > 0).toBe(true);
      }
      expect(json.dataset.trainUsed).toBe(384);
      expect(json.dataset.testUsed).toBe(128);
      expect(json.findings.length).toBe(5);
    });

    it("averages and snapshots as configured and measures widths along rays", () => {
      for (const s of report.seeds) {
        expect(s.swaAveraged.budget).toBe(
          (s.budget.budget - s.budget.start) / smokeExperiment.swaEvery,
        );
        expect(s.swaAveraged.extended).toBeGreaterThan(s.swaAveraged.budget);
        expect(s.fgeMembers).toBe((s.budget.budget - s.budget.start) / smokeExperiment.fgeCycle);
        expect(s.rays.sgd).toHaveLength(smokeExperiment.rays);
        expect(s.width.sgd.widths).toHaveLength(smokeExperiment.rays);
        expect(s.sgdSwaDistance).toBeGreaterThan(0);
        expect(s.fgeMembers).toBe(2);
        expect(s.section35?.memberPairwiseTv).toBeGreaterThan(0);
        expect(Number.isFinite(s.section35?.ensembleSwaTv)).toBe(true);
        expect(s.trainingSamplesPerSecond).toBeGreaterThan(0);
      }
    });

    it("writes the Markdown section and the SVG plots", async () => {
      const md = await readFile(join(dir, "fm.md"), "utf8");
      expect(md).toMatch(/^\| method +\| budget +\| test accuracy \(%\) +\| test NLL +\|/m);
      for (const f of ["fm-comparison.svg", "fm-training.svg", "fm-rays.svg", "fm-segment.svg"]) {
        expect(md).toContain(`](${f})`);
        const svg = await readFile(join(dir, f), "utf8");
        expect(svg.startsWith("<svg")).toBe(true);
      }
      const doc = await readFile(join(dir, "doc.md"), "utf8");
      expect(doc).toContain("<!-- experiment:begin -->\n## Experiment");
    });
  },
);
