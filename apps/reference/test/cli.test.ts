import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runFlags } from "../src/cliArgs.js";
import { subcommands } from "../src/commands/specs.js";
import { configFields } from "../src/config.js";
import { flagOf } from "../src/configDecode.js";
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

/**
 * The description `--help` shows for `flag`: the text after the flag (and its `<value>`) on its
 * line and the indented continuation lines under it; `null` when the flag is not listed.
 */
const descriptionOf = (help: string, flag: string): string | null => {
  const lines = help.split("\n");
  const i = lines.findIndex((l) => new RegExp(`^  ${flag}( <[^>]+>)?( |$)`).test(l));
  if (i < 0) return null;
  const first = (lines[i] as string).replace(new RegExp(`^  ${flag}( <[^>]+>)?`), "").trim();
  const more: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (!/^ {4,}\S/.test(l)) break;
    more.push(l.trim());
  }
  return [first, ...more].join(" ");
};

/** A description says what the flag does: words beyond a default, nothing undefined. */
const expectDescribed = (help: string, flag: string) => {
  const d = descriptionOf(help, flag);
  expect(d, `${flag} is missing from --help`).not.toBeNull();
  const words = (d ?? "").replace(/\(default[^)]*\)/g, "").trim();
  expect(words.split(/\s+/).length, `${flag} has no description: "${d}"`).toBeGreaterThanOrEqual(2);
  expect(d).not.toMatch(/undefined|null/);
};

describe("wider --help", () => {
  it("lists every flag (every config field, every run flag) with a one-line description", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const f of configFields) expectDescribed(r.stdout, flagOf(f));
    for (const f of runFlags) expectDescribed(r.stdout, `--${f.name}`);
    // With its default where it has one.
    expect(descriptionOf(r.stdout, "--swa-start")).toContain("(default 8)");
    expect(descriptionOf(r.stdout, "--model")).toContain("preresnet164");
  });

  it("lists each subcommand with its summary, and each subcommand's --help its flags", async () => {
    const r = await runCli(["--help"]);
    for (const s of subcommands) {
      const line = r.stdout.split("\n").find((l) => l.startsWith(`  ${s.name} `));
      expect(line, `${s.name} missing from wider --help`).toBeDefined();
      expect(line).toContain(s.summary.split(" ").slice(0, 3).join(" "));
      const sub = await runCli([s.name, "--help"]);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain(`Usage: wider ${s.name}`);
      for (const f of s.flags) expectDescribed(sub.stdout, `--${f.name}`);
    }
    // `wider swap` takes the run's config flags too, and says so.
    const swap = await runCli(["swap", "--help"]);
    for (const f of configFields) expectDescribed(swap.stdout, flagOf(f));
  });
});

describe("wider CLI: user errors", () => {
  it("prints help and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--swa-start");
    expect(r.stdout).toContain("--resume");
  });

  it("rejects an unknown flag, suggesting the near one and --help", async () => {
    expectOneLine(await runCli(["--bogus", "1"]), 2, "unknown flag --bogus", "wider --help");
    expectOneLine(await runCli(["--epoch", "3"]), 2, "unknown flag --epoch", "--epochs");
    expectOneLine(
      await runCli(["sweep", "--bogus"]),
      2,
      "sweep: unknown flag --bogus",
      "wider sweep --help",
    );
    expectOneLine(await runCli(["worker", "--conc", "2"]), 2, "worker: unknown flag --conc");
    expectOneLine(await runCli(["swap", "--resum"]), 2, "swap: unknown flag --resum");
  });

  it("rejects a missing value and a stray argument, naming the flag", async () => {
    expectOneLine(await runCli(["--lr"]), 2, "--lr needs a value", "wider --help");
    expectOneLine(await runCli(["--out", "--force"]), 2, "--out needs a value before --force");
    expectOneLine(await runCli(["--epochs", "3", "12"]), 2, 'unexpected argument "12"');
    expectOneLine(await runCli(["--quiet", "sweep"]), 2, "sweep must come first");
  });

  it("rejects a value that is not a number, naming the flag and what is allowed", async () => {
    expectOneLine(await runCli(["--epochs", "twelve"]), 2, "--epochs", '"twelve"', "integer >= 1");
    expectOneLine(await runCli(["--momentum", "high"]), 2, "--momentum", "[0, 1)");
    expectOneLine(await runCli(["--seeds", "0,1", "--jobs", "two"]), 2, "--jobs", "two", "1 to 64");
    expectOneLine(
      await runCli([
        "worker",
        "--redis",
        "redis://127.0.0.1:1",
        "--dir",
        tempDir(),
        "--concurrency",
        "x",
      ]),
      2,
      "--concurrency",
      '"x"',
      "integer >= 1",
    );
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
