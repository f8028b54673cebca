import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBenchCli, runBench } from "../src/bench/cli.js";
import { smokeConfig } from "../src/bench/config.js";
import type { BenchResults } from "../src/bench/suite.js";
import { runTorch } from "../src/bench/torch.js";

const hasTorch =
  spawnSync("/usr/bin/python3", ["-c", "import torch"], { encoding: "utf8" }).status === 0;

const expectedIds = [
  "train/mlp/wasm",
  "train/cnn/wasm",
  "swa-update/mlp/wasm",
  "swa-update/cnn/wasm",
  "ema-update/mlp/wasm",
  "ema-update/cnn/wasm",
  "bn-update/cnn-bn/wasm",
  "fge-predict/cnn/wasm",
  "train/mlp/cpu",
  "train/cnn/cpu",
  "memory/peak-rss",
  "memory/live-tensors",
];

const workerIds = [
  "train/mlp/in-process",
  "train/mlp/1-worker",
  "train/mlp/2-workers",
  "scaling/mlp",
  "ceiling/mlp",
  "train/cnn/in-process",
  "train/cnn/1-worker",
  "train/cnn/2-workers",
  "scaling/cnn",
  "ceiling/cnn",
  "bn-vs-inference/cnn-bn",
  "machine/stream",
  "machine/arithmetic",
];

describe("pnpm bench --smoke without PyTorch (the CI path)", () => {
  let dir: string;
  let results: BenchResults;
  const previous = process.env.WIDER_BENCH_NO_TORCH;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wider-bench-test-"));
    process.env.WIDER_BENCH_NO_TORCH = "1";
    const cli = parseBenchCli(["--smoke", "--out", dir, "--docs", join(dir, "results-doc.md")]);
    const r = await runBench(cli, () => {});
    if (r === null) throw new Error("a full bench run returned no results");
    results = r;
  }, 120_000);

  afterAll(async () => {
    if (previous === undefined) delete process.env.WIDER_BENCH_NO_TORCH;
    else process.env.WIDER_BENCH_NO_TORCH = previous;
    await rm(dir, { recursive: true, force: true });
  });

  it("writes results.json with every figure, finite and positive, and no leaked tensor", async () => {
    const json = JSON.parse(await readFile(join(dir, "results.json"), "utf8")) as BenchResults;
    expect(json.format).toBe("wider-bench");
    expect(json.config.mode).toBe("smoke");
    expect(json.figures.map((f) => f.id)).toEqual(expectedIds);
    for (const f of json.figures) {
      expect(Number.isFinite(f.wider), f.id).toBe(true);
      if (f.id === "memory/live-tensors") expect(f.wider).toBe(0);
      else expect(f.wider, f.id).toBeGreaterThan(0);
      expect(f.runs, f.id).toBeGreaterThanOrEqual(1);
    }
    expect(json).toEqual(JSON.parse(JSON.stringify(results)));
  });

  it("measures the workers section: every row finite and positive, with its load, and no growth", () => {
    const w = results.workers;
    expect(w.rows.map((r) => r.id)).toEqual(workerIds);
    for (const r of w.rows) {
      expect(Number.isFinite(r.wider) && r.wider > 0, r.id).toBe(true);
      expect(r.load, r.id).toMatch(/^Wider \d+(\.\d+)?$/);
      expect(r.pytorch, r.id).toBeNull();
    }
    // The scaling rows are the ratio of the medians of the rows they summarise.
    const byId = new Map(w.rows.map((r) => [r.id, r]));
    for (const m of ["mlp", "cnn"]) {
      const two = byId.get(`train/${m}/2-workers`)!.wider;
      const one = byId.get(`train/${m}/1-worker`)!.wider;
      expect(byId.get(`scaling/${m}`)!.wider).toBeCloseTo(two / one, 3);
      // The ceiling: the median of the unsynchronised pairs' rounds over the 1-worker median.
      const ceiling = byId.get(`ceiling/${m}`)!;
      expect(ceiling.widerRounds.length).toBeGreaterThanOrEqual(1);
      const sorted = [...ceiling.widerRounds].sort((a, b) => a - b);
      const mid =
        sorted.length % 2 === 1
          ? sorted[(sorted.length - 1) / 2]!
          : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
      expect(ceiling.wider).toBeCloseTo(mid / one, 3);
    }
    const l = w.leak;
    expect(l.steps).toBe(20);
    expect(l.workerTensorsBefore).toHaveLength(2);
    expect(l.workerTensorsAfter).toEqual(l.workerTensorsBefore);
    expect(l.mainTensorsAfter).toBe(l.mainTensorsBefore);
    expect(l.half.workerTensors).toEqual(l.workerTensorsBefore);
    expect(l.half.mainTensors).toBe(l.mainTensorsBefore);
    expect(l.rssBefore).toBeGreaterThan(0);
    expect(l.heapUsedAfter).toBeGreaterThan(0);
  });

  it("says PyTorch was not run and why, with no ratio", () => {
    expect(results.pytorch.available).toBe(false);
    if (!results.pytorch.available)
      expect(results.pytorch.reason).toContain("WIDER_BENCH_NO_TORCH");
    for (const f of results.figures) {
      expect(f.pytorch).toBeNull();
      expect(f.ratio).toBeNull();
    }
  });

  it("writes the Markdown table and the docs section", async () => {
    const md = await readFile(join(dir, "results.md"), "utf8");
    expect(md).toMatch(/^\| operation +\| model +\| backend +\| Wider +\| PyTorch +\|/m);
    expect(md).toContain("PyTorch: not run");
    const rows = md.split("\n").filter((l) => l.startsWith("|") && !/^\| *-/.test(l));
    expect(rows.length).toBe(expectedIds.length + 1 + workerIds.length + 1);
    expect(md).toContain("### Data-parallel training: `wider --workers N`");
    expect(md).toMatch(/^Leak check: 20 steps of the MLP .* on 2 wasm workers/m);
    const doc = await readFile(join(dir, "results-doc.md"), "utf8");
    expect(doc).toContain("<!-- bench:begin -->");
    expect(doc).toContain("## Benchmark: Wider vs PyTorch 1.13");
    expect(doc).toMatch(/^\| training throughput \(SGD step\) +\| MLP/m);
    expect(doc).toContain("<!-- experiment:begin -->");
    expect(doc).toMatch(
      /<!-- bench-workers:begin -->\n### Data-parallel training[\s\S]*<!-- bench-workers:end -->\n[\s\S]*<!-- bench:end -->/,
    );
  });
});

describe("pnpm bench --only workers (smoke, without PyTorch)", () => {
  it("writes results-workers.{json,md} and rewrites only the docs' bench-workers subsection", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wider-bench-only-"));
    const previous = process.env.WIDER_BENCH_NO_TORCH;
    process.env.WIDER_BENCH_NO_TORCH = "1";
    try {
      const doc = join(dir, "results.md");
      const before =
        "top\n<!-- bench:begin -->\nthe other rows\n\n<!-- bench-workers:begin -->\nold\n<!-- bench-workers:end -->\n<!-- bench:end -->\nend\n";
      await writeFile(doc, before);
      const cli = parseBenchCli(["--smoke", "--only", "workers", "--out", dir, "--docs", doc]);
      expect(await runBench(cli, () => {})).toBeNull();
      const w = JSON.parse(await readFile(join(dir, "results-workers.json"), "utf8")) as {
        rows: { wider: number }[];
      };
      expect(w.rows.length).toBeGreaterThan(0);
      for (const r of w.rows) expect(Number.isFinite(r.wider) && r.wider > 0).toBe(true);
      const after = await readFile(doc, "utf8");
      expect(
        after.startsWith(
          "top\n<!-- bench:begin -->\nthe other rows\n\n<!-- bench-workers:begin -->\n### Data-parallel",
        ),
      ).toBe(true);
      expect(after.endsWith("<!-- bench-workers:end -->\n<!-- bench:end -->\nend\n")).toBe(true);
      expect(after).not.toContain("\nold\n");
      expect(await readFile(join(dir, "results-workers.md"), "utf8")).toContain(
        "### Data-parallel",
      );
    } finally {
      if (previous === undefined) delete process.env.WIDER_BENCH_NO_TORCH;
      else process.env.WIDER_BENCH_NO_TORCH = previous;
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe.runIf(hasTorch)("the PyTorch peer (python3-torch present)", () => {
  it("runs on the smoke shapes with one thread on OpenBLAS and returns every figure", () => {
    const peer = runTorch(smokeConfig, { disabled: false });
    expect(peer.available).toBe(true);
    if (!peer.available) return;
    expect(peer.threads).toBe(1);
    expect(peer.openblas).toBe(true);
    for (const id of [
      "train/mlp",
      "train/cnn",
      "swa-update/mlp",
      "swa-update/cnn",
      "ema-update/mlp",
      "ema-update/cnn",
      "bn-update/cnn-bn",
      "fge-predict/cnn",
      "memory/peak-rss",
    ]) {
      const f = peer.figures[id];
      expect(f, id).toBeDefined();
      expect(f!.value, id).toBeGreaterThan(0);
      expect(Number.isFinite(f!.value), id).toBe(true);
    }
  }, 120_000);

  it("runs the workers section's figures alone on 2 threads", () => {
    const peer = runTorch({ ...smokeConfig, threads: 2 }, { disabled: false, only: "workers" });
    expect(peer.available).toBe(true);
    if (!peer.available) return;
    expect(peer.threads).toBe(2);
    expect(Object.keys(peer.figures).sort()).toEqual(
      ["bn-update/cnn-bn", "infer/cnn-bn", "train/cnn", "train/mlp"].sort(),
    );
    for (const f of Object.values(peer.figures)) expect(f.value).toBeGreaterThan(0);
  }, 120_000);
});

describe("parseBenchCli", () => {
  it("rejects a bad thread count with the flag and the allowed values", () => {
    expect(() => parseBenchCli(["--threads", "0"])).toThrow(
      /--threads: 0 is not allowed; expected an integer >= 1/,
    );
  });

  it("accepts --only workers and refuses another section", () => {
    expect(parseBenchCli(["--only", "workers"]).only).toBe("workers");
    expect(parseBenchCli([]).only).toBeNull();
    expect(() => parseBenchCli(["--only", "fge"])).toThrow(
      /--only: fge is not allowed; expected workers/,
    );
  });

  it("defaults the full run to bench/ and docs/results.md at the repository root", () => {
    const cli = parseBenchCli([]);
    expect(cli.config.mode).toBe("full");
    expect(cli.out.endsWith("/bench")).toBe(true);
    expect(cli.docs?.endsWith("/docs/results.md")).toBe(true);
  });
});
