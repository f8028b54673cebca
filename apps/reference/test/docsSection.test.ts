/** `--docs`: which section of the docs file a multi-seed run writes, and the section replacement. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { docsSection, replaceSection } from "../src/aggregateReport.js";
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
