import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Done, runCli, tempDir } from "./helpers.js";

/** A user error: non-zero exit, exactly one line on stderr, no stack trace, nothing on stdout. */
const expectOneLine = (r: Done, code: number, ...parts: string[]) => {
  expect(r.code).toBe(code);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^wider: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const p of parts) expect(lines[0]).toContain(p);
  expect(r.stdout).toBe("");
};

describe("wider CLI: user errors", () => {
  it("prints help and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--swa-start");
    expect(r.stdout).toContain("--resume");
  });

  it("rejects an unknown flag", async () => {
    expectOneLine(await runCli(["--bogus", "1"]), 2, "--bogus");
  });

  it("rejects a bad value, naming the flag, the value and what is allowed", async () => {
    expectOneLine(await runCli(["--batch-size", "-3"]), 2, "--batch-size", "-3", "integer >= 1");
    expectOneLine(await runCli(["--lr", "fast"]), 2, "--lr", '"fast"', "number > 0");
  });

  it("rejects an unknown model and backend", async () => {
    expectOneLine(await runCli(["--model", "resnet50"]), 2, "--model", "resnet50", '"preresnet"');
    expectOneLine(await runCli(["--backend", "tpu"]), 2, "--backend", "tpu", '"wasm"');
  });

  it("rejects a bad config file, naming the file and field", async () => {
    const dir = tempDir();
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ epochs: 10, swaStart: "late" }));
    expectOneLine(await runCli(["--config", file]), 2, file, "swaStart", '"late"', "integer >= 1");
    writeFileSync(file, JSON.stringify({ epoch: 10 }));
    expectOneLine(await runCli(["--config", file]), 2, 'unknown field "epoch"', "epochs");
    writeFileSync(file, "{ not json");
    expectOneLine(await runCli(["--config", file]), 2, "not valid JSON");
    expectOneLine(await runCli(["--config", join(dir, "missing.json")]), 2, "cannot read");
  });

  it("rejects a bad schedule spec with the schedule's own message", async () => {
    const out = join(tempDir(), "run");
    const r = await runCli([
      "--out",
      out,
      "--swa-schedule",
      '{"type":"cyclical","high":0.05,"low":0.01,"cycle":0}',
    ]);
    expectOneLine(r, 2, "swaSchedule", "cycle");
  });

  it("fails on missing data with the data set's fix", async () => {
    const out = join(tempDir(), "run");
    const r = await runCli([
      "--dataset",
      "fashion-mnist",
      "--data-dir",
      "/nonexistent/fashion",
      "--out",
      out,
      "--backend",
      "cpu",
    ]);
    expectOneLine(r, 1, "/nonexistent/fashion");
  });

  it("fails clearly when a requested backend is not installed", async () => {
    const out = join(tempDir(), "run");
    const r = await runCli(["--backend", "tensorflow", "--out", out, "--train-subset", "256"]);
    expectOneLine(r, 1, "--backend tensorflow", "@tensorflow/tfjs-node");
  });

  it("refuses to overwrite a non-empty output directory, and --resume without a checkpoint", async () => {
    const out = tempDir();
    mkdirSync(join(out, "something"));
    expectOneLine(await runCli(["--out", out]), 2, out, "--force", "--resume");
    expectOneLine(await runCli(["--out", out, "--resume"]), 1, "checkpoint");
    expectOneLine(await runCli(["--resume"]), 2, "--out");
    expectOneLine(await runCli(["--out", out, "--resume", "--force"]), 2, "--force");
  });
});
