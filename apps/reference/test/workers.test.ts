import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { checkWorkersJobs } from "../src/cliArgs.js";
import { Config, defaultConfig } from "../src/config.js";
import { withAddedFields } from "../src/configFields.js";
import type { Report } from "../src/report.js";
import { workersNote } from "../src/workers.js";
import { type Done, runCli, start, tempDir } from "./helpers.js";

const readReport = (out: string): Report =>
  JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;

/** A small run: MLP on 512 MNIST images, 4 epochs (2 pretraining), no geometry or trajectory. */
const small = (out: string, ...extra: string[]): string[] => [
  "--out",
  out,
  "--train-subset",
  "512",
  "--test-subset",
  "500",
  "--batch-size",
  "32",
  "--epochs",
  "4",
  "--swa-start",
  "2",
  "--rays",
  "0",
  "--segment-points",
  "0",
  "--plane-grid",
  "0",
  "--trajectory-grid",
  "0",
  "--swag-rank",
  "0",
  "--backend",
  "wasm",
  "--quiet",
  ...extra,
];

/** The numbers of a run that depend on training only (no timings). */
const outcome = (r: Report) => ({
  results: r.results,
  history: r.history.map(({ seconds: _s, ...h }) => h),
  swaAveraged: r.swaAveraged,
  fgeSnapshots: r.fgeSnapshots,
});

/** A user error: its exit code and one line on stderr naming `parts`. */
const expectOneLine = (r: Done, code: number, ...parts: string[]) => {
  expect(r.code).toBe(code);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const p of parts) expect(lines[0]).toContain(p);
};

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), 1e-12);

/** Polls the checkpoint's manifest until `pred(track, epochs done)` holds. */
const waitForCheckpoint = async (
  out: string,
  pred: (track: string, epochs: number) => boolean,
): Promise<void> => {
  const file = join(out, "checkpoint", "manifest.json");
  const t0 = Date.now();
  while (Date.now() - t0 < 100_000) {
    if (existsSync(file)) {
      try {
        const m = JSON.parse(readFileSync(file, "utf8")).metadata.meta as {
          track: string;
          history: unknown[];
        };
        if (pred(m.track, m.history.length)) return;
      } catch {
        // being replaced right now: read again
      }
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("no checkpoint in time");
};

describe("wider --workers: bad values", () => {
  it("rejects 0, a word, a fraction and more than 64 with one line naming the flag and the range", async () => {
    for (const bad of ["0", "abc", "1.5", "65"])
      expectOneLine(
        await runCli(["--workers", bad]),
        2,
        "flag --workers",
        bad === "abc" ? '"abc"' : bad,
        "an integer from 1 to 64",
      );
  });

  it("rejects --workers N with --jobs M when N*M exceeds the cores, naming both fixes", async () => {
    expectOneLine(
      await runCli(["--out", tempDir(), "--workers", "64", "--seeds", "0,1", "--jobs", "2"]),
      2,
      "--workers 64 with --jobs 2 starts 128 training threads",
      "lower --jobs",
      "--workers",
    );
    expect(() => checkWorkersJobs(2, 2, 2)).toThrow(/starts 4 training threads on 2 cores/);
    expect(() => checkWorkersJobs(2, 2, 4)).not.toThrow();
    expect(() => checkWorkersJobs(4, 1, 2)).not.toThrow(); // no --jobs: allowed, the log notes it
    expect(() => checkWorkersJobs(1, 8, 2)).not.toThrow(); // one thread per seed: --jobs' own rule
    expect(workersNote(4, 2)).toContain("more workers than cores");
    expect(workersNote(2, 2)).not.toContain("more workers than cores");
    expect(workersNote(1, 2)).toBeNull();
  });

  it("resumes a checkpoint written before the field existed with one worker", () => {
    const { workers: _dropped, ...old } = defaultConfig(new Date(0));
    const c = Config.decode(withAddedFields(old));
    expect(E.isRight(c) && c.right.workers).toBe(1);
    const kept = Config.decode(withAddedFields({ ...old, workers: 2 }));
    expect(E.isRight(kept) && kept.right.workers).toBe(2);
  });
});

describe("wider --workers 2: the same training as one thread", () => {
  const base = tempDir("wider-workers-");
  const one = join(base, "one");
  const two = join(base, "two");
  let reference: Report;
  let parallel: Report;

  beforeAll(async () => {
    // With the trajectory analysis (a 3 x 3 plane) so that its two SGD runs go through the workers too.
    const traj = ["--trajectory-grid", "3"];
    const [a, b] = [
      await runCli(small(one, ...traj)),
      await runCli(small(two, "--workers", "2", ...traj)),
    ];
    expect(a.stderr).toBe("");
    expect(a.code).toBe(0);
    expect(b.stderr).toBe("");
    expect(b.code).toBe(0);
    expect(b.stdout).toContain("workers: 2 threads train the model data-parallel");
    expect(b.stdout).toContain("trajectory analysis: workers: 2 threads");
    expect(a.stdout).not.toContain("trajectory analysis: workers");
    reference = readReport(one);
    parallel = readReport(two);
  }, 240_000);

  it("agrees with the one-thread run up to float32 summation order", () => {
    // The MLP has no BatchNorm, so the replicas' summed slice gradients are the full batch's up to
    // float32 summation order. Over 128 SGD steps that drifts by ~1e-6 relative (measured worst
    // 3.3e-6 over every number of the report); smooth quantities must agree to 1e-4 relative,
    // counts of test images (accuracy, per-epoch test error) to one image of the 500.
    expect(parallel.config.workers).toBe(2);
    expect(reference.config.workers).toBe(1);
    const methods = ["pretrained", "sgd", "swa", "fge"] as const;
    for (const m of methods) {
      const [a, b] = [reference.results[m], parallel.results[m]];
      expect(rel(a.nll, b.nll), `${m} nll`).toBeLessThan(1e-4);
      expect(rel(a.brier, b.brier), `${m} brier`).toBeLessThan(1e-4);
      expect(Math.abs(a.accuracy - b.accuracy), `${m} accuracy`).toBeLessThanOrEqual(1 / 500);
    }
    expect(parallel.history).toHaveLength(reference.history.length);
    reference.history.forEach((h, i) => {
      const p = parallel.history[i] as (typeof parallel.history)[number];
      expect([p.phase, p.epoch, p.lrFirst, p.lrLast]).toEqual([
        h.phase,
        h.epoch,
        h.lrFirst,
        h.lrLast,
      ]);
      expect(rel(h.trainLoss, p.trainLoss), `epoch ${i} train loss`).toBeLessThan(1e-4);
      expect(Math.abs(h.testError - p.testError)).toBeLessThanOrEqual(1 / 500);
    });
    // The hooks saw the same steps: the same averages and snapshots.
    expect(parallel.swaAveraged).toBe(reference.swaAveraged);
    expect(parallel.fgeSnapshots).toBe(reference.fgeSnapshots);
  });

  it("runs the trajectory analysis' SGD runs on the workers with the same proposals", () => {
    const [t1, t2] = [reference.trajectory, parallel.trajectory];
    if (t1 == null || t2 == null) throw new Error("a run has no trajectory analysis");
    for (const rate of ["cyclical", "constant"] as const) {
      const [a, b] = [t1.runs[rate], t2.runs[rate]];
      expect(b.steps).toEqual(a.steps);
      expect(b.proposalErrors.length).toBeGreaterThan(0);
      // test errors on 500 images: within one image; the spread of the proposals to 1e-4 relative.
      for (const [i, e] of b.proposalErrors.entries())
        expect(Math.abs(e - (a.proposalErrors[i] as number))).toBeLessThanOrEqual(1 / 500);
      expect(rel(a.spread, b.spread), `${rate} spread`).toBeLessThan(1e-4);
    }
  });

  it("names the worker count in the report's header", () => {
    const html = (dir: string) => readFileSync(join(dir, "report.html"), "utf8");
    expect(html(two)).toContain('<span id="workers">2 worker threads (data-parallel)</span>');
    expect(html(one)).toContain('<span id="workers">1 thread (no --workers)</span>');
  });

  it("resumes a 2-worker run killed mid-training to the uninterrupted 2-worker result", async () => {
    const out = join(base, "killed");
    const { child, done } = start(small(out, "--workers", "2"));
    await waitForCheckpoint(
      out,
      (track, epochs) => (track === "sgd" && epochs >= 2) || track === "swa",
    );
    child.kill("SIGKILL");
    expect((await done).signal).toBe("SIGKILL");
    expect(existsSync(join(out, "report.json"))).toBe(false);
    // Workers count is a training field: the checkpoint's 2 is used, a change is refused.
    const changed = await runCli(["--out", out, "--resume", "--workers", "1"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain("workers 2, now 1");
    const resumed = await runCli(["--out", out, "--resume"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("resuming from the checkpoint");
    expect(resumed.stdout).toContain("workers: 2 threads");
    // The replicas start each run from the main thread's weights and optimizer state, as the
    // uninterrupted run's did at every track: the result is the same to the bit.
    expect(outcome(readReport(out))).toEqual(outcome(parallel));
  }, 240_000);

  it("stops a 2-worker run on SIGINT after the current step and resumes to the same result", async () => {
    const out = join(base, "interrupted");
    const { child, done } = start(small(out, "--workers", "2"));
    await waitForCheckpoint(out, (track) => track === "swa" || track === "fge");
    child.kill("SIGINT");
    const stopped = await done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted in \w+ at epoch \d+ step \d+/);
    expect(existsSync(join(out, "report.json"))).toBe(false);
    const resumed = await runCli(["--out", out, "--resume"]);
    expect(resumed.code).toBe(0);
    expect(outcome(readReport(out))).toEqual(outcome(parallel));
  }, 240_000);

  it("ends on a hook's error with the app's own message and exit code", async () => {
    const r = await runCli(small(join(base, "nan"), "--workers", "2", "--lr", "1e30"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^wider: sgd: the training loss is NaN at step \d+; lower --lr/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
