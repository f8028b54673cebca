/** `--docs`: which section of the docs file a multi-seed run writes, and the section replacement. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { aggregate, type SeedReport } from "../src/aggregate.js";
import { aggregateMarkdown, docsSection, replaceSection } from "../src/aggregateReport.js";
import { tempDir } from "./helpers.js";

const both =
  "<!-- experiment-mlp:begin -->\nm\n<!-- experiment-mlp:end -->\n<!-- experiment-cnn:begin -->\nc\n<!-- experiment-cnn:end -->\n";

describe("--docs sections", () => {
  it("one section per model; a file with only the single experiment section keeps it", () => {
    expect(docsSection(both, "mlp")).toBe("experiment-mlp");
    expect(docsSection(both, "cnn")).toBe("experiment-cnn");
    expect(docsSection("<!-- experiment:begin -->\n<!-- experiment:end -->\n", "cnn")).toBe(
      "experiment",
    );
    expect(docsSection(`<!-- experiment:begin -->\n<!-- experiment:end -->\n${both}`, "cnn")).toBe(
      "experiment-cnn",
    );
    expect(docsSection("", "mlp")).toBe("experiment-mlp");
  });

  it("replaces only the named section and names the missing markers", async () => {
    const file = join(tempDir("wider-docs-"), "results.md");
    writeFileSync(file, `top\n${both}bottom\n`);
    await replaceSection(file, "experiment-cnn", "new cnn");
    expect(readFileSync(file, "utf8")).toBe(
      "top\n<!-- experiment-mlp:begin -->\nm\n<!-- experiment-mlp:end -->\n<!-- experiment-cnn:begin -->\nnew cnn\n<!-- experiment-cnn:end -->\nbottom\n",
    );
    await expect(replaceSection(file, "experiment-vgg", "x")).rejects.toThrow(
      /has no "<!-- experiment-vgg:begin -->" … "<!-- experiment-vgg:end -->" section; add the two markers/,
    );
  });
});

describe("aggregateMarkdown: per-seed tables", () => {
  it("tables every seed's test accuracy, NLL and ECE per method (issue 14: per seed and mean ± std)", () => {
    type M = { accuracy: number; nll: number; ece: number; brier: number };
    const m = (accuracy: number, nll: number, ece: number): M => ({
      accuracy,
      nll,
      ece,
      brier: 0.1,
    });
    const report = (seed: number, sgd: M, swa: M): SeedReport => ({
      tool: "wider",
      config: { seed, dataSeed: 1 + seed, out: `run/seed-${seed}` },
      backend: { name: "wasm" },
      dataset: { name: "fashion-mnist", trainUsed: 100, trainTotal: 100, testUsed: 10 },
      model: { name: "mlp", parameters: 1 },
      results: { sgd, swa },
      geometry: { rays: { widthSgd: null, widthSwa: null }, segment: null },
      seconds: { sgd: 1, swa: 1 },
    });
    const a = aggregate(
      [0, 1],
      ["run/seed-0", "run/seed-1"],
      [
        report(0, m(0.9, 0.31, 0.04), m(0.91, 0.3, 0.03)),
        report(1, m(0.8, 0.41, 0.05), m(0.82, 0.4, 0.02)),
      ],
    );
    const md = aggregateMarkdown(a, "c");
    expect(md).toContain(
      "Per seed (test accuracy %):\n\n| seed | SGD | SWA |\n|---|---|---|\n| 0 | 90.00 | 91.00 |\n| 1 | 80.00 | 82.00 |",
    );
    expect(md).toContain(
      "Per seed (test NLL):\n\n| seed | SGD | SWA |\n|---|---|---|\n| 0 | 0.3100 | 0.3000 |\n| 1 | 0.4100 | 0.4000 |",
    );
    expect(md).toContain(
      "Per seed (test ECE):\n\n| seed | SGD | SWA |\n|---|---|---|\n| 0 | 0.0400 | 0.0300 |\n| 1 | 0.0500 | 0.0200 |",
    );
  });
});
