/**
 * "Runs that can be trusted", through the real CLI binary: the lock on --out (two real processes,
 * a stale lock of a SIGKILLed holder), corrupt checkpoints, checks before --force deletes, size
 * limits, unwritable output, a full disk, SIGTERM and Ctrl-C during evaluation. Every refusal is
 * one line with its exit code, and the previous run's files are byte-identical afterwards.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../src/report.js";
import { type Done, runCli, start, tempDir } from "./helpers.js";

/** A tiny run with no geometry: 2 FGE snapshots, evaluation on 3,000 test images (about 2 s). */
const flags = (out: string): string[] => [
  "--out",
  out,
  "--train-subset",
  "256",
  "--test-subset",
  "3000",
  "--batch-size",
  "32",
  "--epochs",
  "3",
  "--swa-start",
  "1",
  "--rays",
  "0",
  "--segment-points",
  "0",
  "--plane-grid",
  "0",
  "--backend",
  "wasm",
  "--quiet",
];

/** A user error: exit code, exactly one line on stderr naming `parts`, no stack trace. */
const expectOneLine = (r: Done, code: number, ...parts: string[]): void => {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^wider: /);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  for (const p of parts) expect(lines[0]).toContain(p);
};

/** Every file under `dir` (lock excluded) with the sha256 of its bytes. */
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.startsWith(".wider-lock")) continue;
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
};

/** Files under `dir` whose name marks a temporary file. */
const tempFiles = (dir: string): string[] =>
  Object.keys(snapshot(dir)).filter((f) => /\.tmp/.test(f));

const readReport = (out: string): Report =>
  JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;

/** The numbers that must not depend on interruptions. */
const outcome = (r: Report) => ({
  results: r.results,
  history: r.history.map(({ seconds: _s, ...h }) => h),
  swaAveraged: r.swaAveraged,
  fgeSnapshots: r.fgeSnapshots,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `file` exists. */
const waitFor = async (file: string, timeoutMs = 60_000): Promise<void> => {
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${file} did not appear`);
    await sleep(5);
  }
};

/** Whether this process may mount file systems (root in a privileged container). */
const canMount = ((): boolean => {
  const dir = tempDir("wider-mount-probe-");
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
  if (r.status !== 0) return false;
  spawnSync("umount", [dir]);
  return true;
})();
if (!canMount)
  console.warn("safety.test: mount is not permitted here; the tmpfs tests are skipped");

const mounts: string[] = [];
const mountTmpfs = (options: string): string => {
  const dir = tempDir("wider-tmpfs-");
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  mounts.push(dir);
  return dir;
};
afterAll(() => {
  for (const m of mounts) spawnSync("umount", [m]);
});

describe("wider: runs that can be trusted", () => {
  const base = tempDir("wider-safety-");
  const finished = join(base, "finished");
  let reference: Report;

  /** A copy of the finished run (same config, another directory). */
  const copyOfFinished = (name: string): string => {
    const dir = join(base, name);
    cpSync(finished, dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    const r = await runCli(flags(finished));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    reference = readReport(finished);
    expect(existsSync(join(finished, ".wider-lock"))).toBe(false); // released at the end
  });

  it("locks --out: a second run, --force and --resume are refused naming the holder's pid", async () => {
    const out = join(base, "locked");
    const holder = start(flags(out));
    await waitFor(join(out, "checkpoint", "manifest.json"));
    holder.child.kill("SIGSTOP"); // the holder stays alive but writes nothing while we look
    try {
      const owner = JSON.parse(readFileSync(join(out, ".wider-lock", "owner.json"), "utf8"));
      expect(owner.pid).toBe(holder.child.pid);
      const before = snapshot(out);
      const pid = `pid ${holder.child.pid}`;
      expectOneLine(await runCli(flags(out)), 1, out, "in use by another wider run", pid);
      expectOneLine(await runCli([...flags(out), "--force"]), 1, "in use", pid);
      expectOneLine(await runCli(["--out", out, "--resume"]), 1, "in use", pid);
      expect(snapshot(out)).toEqual(before);
    } finally {
      holder.child.kill("SIGCONT");
    }
    // SIGTERM stops like Ctrl-C: after the current step, checkpoint intact, resumable.
    holder.child.kill("SIGTERM");
    const stopped = await holder.done;
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toMatch(/interrupted (in \w+ at epoch \d+ step \d+|before|in|after)/);
    expect(stopped.stderr).toContain("SIGTERM");
    expect(stopped.stderr).toContain(`--resume --out ${out}`);
    expect(stopped.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, ".wider-lock"))).toBe(false);
    const resumed = await runCli(["--out", out, "--resume", "--quiet"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(outcome(readReport(out))).toEqual(outcome(reference));
  });

  it("takes over the stale lock of a SIGKILLed holder", async () => {
    const out = join(base, "stale");
    const holder = start(flags(out));
    await waitFor(join(out, "checkpoint", "manifest.json"));
    holder.child.kill("SIGKILL");
    expect((await holder.done).signal).toBe("SIGKILL");
    expect(existsSync(join(out, ".wider-lock", "owner.json"))).toBe(true); // left behind
    const resumed = await runCli(["--out", out, "--resume", "--quiet"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(existsSync(join(out, ".wider-lock"))).toBe(false);
    expect(outcome(readReport(out))).toEqual(outcome(reference));
  });

  it("reports a corrupt checkpoint in one line, touching nothing", async () => {
    type Meta = { metadata: Record<string, unknown> & { meta: Record<string, unknown> } };
    const cases: Array<[string, (m: Meta) => void, string]> = [
      [
        "history",
        (m) => ((m.metadata.meta.history as Array<Record<string, unknown>>)[0]!.trainLoss = "x"),
        "metadata.history.0.trainLoss",
      ],
      ["track", (m) => (m.metadata.meta.track = "bogus"), "metadata.track"],
      [
        "config",
        (m) => ((m.metadata.meta.config as Record<string, unknown>).batchSize = 0),
        "metadata.config.batchSize",
      ],
      ["steps", (m) => (m.metadata.meta.swaSteps = "x"), "metadata.swaSteps"],
      [
        "groups",
        (m) => {
          const g = m as unknown as { groups: string[]; tensors: Array<{ group: string }> };
          g.groups = g.groups.filter((n) => n !== "extra/swaFinal");
          g.tensors = g.tensors.filter((t) => t.group !== "extra/swaFinal");
        },
        "swaFinal",
      ],
      ["no-state", (m) => (m.metadata = { version: 1 } as never), "metadata.format"],
    ];
    for (const [name, edit, detail] of cases) {
      const out = copyOfFinished(`corrupt-${name}`);
      const file = join(out, "checkpoint", "manifest.json");
      const m = JSON.parse(readFileSync(file, "utf8"));
      edit(m);
      writeFileSync(file, JSON.stringify(m));
      const before = snapshot(out);
      const r = await runCli(["--out", out, "--resume"]);
      expectOneLine(r, 1, "checkpoint is corrupt:", join(out, "checkpoint"));
      // The state's own problems name the field; a checksum over the manifest may catch edits first.
      if (!/sha|checksum|digest/i.test(r.stderr)) expect(r.stderr).toContain(detail);
      expect(snapshot(out)).toEqual(before);
    }
    const out = copyOfFinished("corrupt-json");
    writeFileSync(join(out, "checkpoint", "manifest.json"), "{ not json");
    const before = snapshot(out);
    expectOneLine(await runCli(["--out", out, "--resume"]), 1, "checkpoint is corrupt:");
    expect(snapshot(out)).toEqual(before);
  });

  it("runs every check before --force deletes the old run", async () => {
    const out = copyOfFinished("forced");
    const before = snapshot(out);
    const refusals: Array<[string[], number, string[]]> = [
      [["--batch-size", "1000"], 2, ["batchSize: 1000", "256 training images"]],
      [["--plane-grid", "100000"], 2, ["--plane-grid 100000", "heap"]],
      [
        ["--dataset", "fashion-mnist", "--data-dir", "/nonexistent/fashion"],
        1,
        ["/nonexistent/fashion"],
      ],
    ];
    for (const [extra, code, parts] of refusals) {
      expectOneLine(await runCli([...flags(out), "--force", ...extra]), code, ...parts);
      expect(snapshot(out)).toEqual(before);
    }
  });

  it("refuses sizes the machine cannot hold, up front, creating nothing", async () => {
    const out = join(base, "huge");
    const grid = await runCli([...flags(out), "--plane-grid", "100000"]);
    expectOneLine(
      grid,
      2,
      "--plane-grid 100000",
      "1.00e+10 geometry points",
      "TiB",
      "V8 heap limit",
    );
    const seg = await runCli([...flags(out), "--segment-points", "1e9"]);
    expectOneLine(seg, 2, "--segment-points 1000000000", "1.00e+9 geometry points");
    expect(existsSync(out)).toBe(false);
  });

  it("lets --resume change the analysis fields, and only those", async () => {
    const out = copyOfFinished("analysis");
    const before = snapshot(out);
    const lr = await runCli(["--out", out, "--resume", "--lr", "0.2"]);
    expectOneLine(lr, 2, "different configuration", "lr 0.05, now 0.2", "planeGrid");
    const huge = await runCli(["--out", out, "--resume", "--plane-grid", "100000"]);
    expectOneLine(huge, 2, "--plane-grid 100000");
    expect(snapshot(out)).toEqual(before);
    const r = await runCli([
      ...["--out", out, "--resume", "--quiet", "--segment-points", "3", "--plane-grid", "2"],
      ...["--geometry-subset", "100"],
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = readReport(out);
    expect(report.geometry.segment?.results).toHaveLength(3);
    expect(report.geometry.plane?.results).toHaveLength(4);
    expect(report.config.planeGrid).toBe(2);
    expect(outcome(report)).toEqual(outcome(reference)); // training untouched
  });

  it("says where and why an --out cannot be used, without hanging", async () => {
    for (const [out, fsName] of [
      ["/proc/wider-run", "proc"],
      ["/sys/wider/run", "sysfs"],
    ] as const) {
      const t0 = Date.now();
      expectOneLine(await runCli(flags(out)), 1, out, `the ${fsName} file system`);
      expect(Date.now() - t0).toBeLessThan(30_000);
    }
    const file = join(base, "a-file");
    writeFileSync(file, "x");
    expectOneLine(await runCli(flags(join(file, "run"))), 1, file, "is a file");
  });

  it.skipIf(!canMount)("reports a read-only file system as such", async () => {
    const ro = mountTmpfs("size=1m,ro");
    const out = join(ro, "run");
    expectOneLine(await runCli(flags(out)), 1, out, "read-only", "EROFS");
    // an existing directory there: the lock cannot be made
    const ro2 = mountTmpfs("size=1m");
    mkdirSync(join(ro2, "run"));
    spawnSync("mount", ["-o", "remount,ro", ro2]);
    expectOneLine(await runCli(flags(join(ro2, "run"))), 1, join(ro2, "run"), "read-only");
  });

  it.skipIf(!canMount)(
    "a full disk while writing the report: one line, no temp file, old files intact",
    async () => {
      const disk = mountTmpfs("size=64m");
      const out = join(disk, "run");
      cpSync(finished, out, { recursive: true });
      // Fill the disk but for three pages: room for the lock's owner.json and part of a report.
      const reserve = [0, 1, 2].map((k) => join(disk, `reserve${k}`));
      for (const f of reserve) writeFileSync(f, "x");
      const fd = openSync(join(disk, "filler"), "w");
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
      }
      try {
        for (;;) writeSync(fd, chunk.subarray(0, 512));
      } catch {
        // full to the last block
      }
      closeSync(fd);
      for (const f of reserve) rmSync(f);
      const before = snapshot(out);
      const r = await runCli(["--out", out, "--resume", "--quiet"]);
      expect(r.stderr).toMatch(/^wider: cannot write \S+report\.(json|html): no space left/m);
      expectOneLine(r, 1, "ENOSPC");
      expect(tempFiles(out)).toEqual([]);
      expect(snapshot(out)).toEqual(before);
      expect(existsSync(join(out, ".wider-lock"))).toBe(false);
      expect(statSync(join(out, "report.json")).size).toBeGreaterThan(0);
    },
  );

  it("Ctrl-C during evaluation names the evaluation, not geometry", async () => {
    const out = copyOfFinished("eval-interrupt");
    const run = start(["--out", out, "--resume"]);
    let seen = "";
    run.child.stdout?.on("data", (d: Buffer) => {
      seen += d.toString();
      if (seen.includes("evaluating on the test set")) run.child.kill("SIGINT");
    });
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("interrupted in evaluation");
    expect(r.stderr).not.toContain("geometry");
    expect(r.stderr).toContain("SIGINT");
    const again = await runCli(["--out", out, "--resume", "--quiet"]);
    expect(again.code).toBe(0);
    expect(outcome(readReport(out))).toEqual(outcome(reference));
  });
});
