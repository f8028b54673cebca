import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { Interrupted } from "../src/AppError.js";
import { defaultConfig } from "../src/config.js";
import { resolveConfig } from "../src/configDecode.js";
import { makeProgress } from "../src/progress.js";
import { runExperiment } from "../src/run.js";
import { tempDir } from "./helpers.js";

describe("runExperiment in-process", () => {
  it("runs every phase and leaves no tensor behind", async () => {
    const out = `${tempDir("wider-mem-")}/run`;
    const c = resolveConfig(defaultConfig(), {
      out,
      trainSubset: 256 as never,
      testSubset: 200 as never,
      batchSize: 32 as never,
      epochs: 3 as never,
      swaStart: 1 as never,
      rays: 1 as never,
      rayPoints: 3 as never,
      segmentPoints: 3 as never,
      planeGrid: 2 as never,
      geometrySubset: 100 as never,
      backend: "wasm",
    });
    if (E.isLeft(c)) throw c.left;
    const lines: string[] = [];
    const progress = { ...makeProgress(process.stdout, true), log: (l: string) => lines.push(l) };
    // The first run registers the backend; count tensors around a second, identical run.
    await runExperiment(c.right, {
      resume: false,
      force: false,
      progress,
      signal: { aborted: false },
    });
    const before = tf.memory().numTensors;
    const report = await runExperiment(c.right, {
      resume: false,
      force: true,
      progress,
      signal: { aborted: false },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.backend.name).toBe("wasm");
    expect(report.fgeSnapshots).toBe(2);
    // the trajectory analysis ran in-process too (default grid 7): 2 proposals per rate, a plane
    expect(report.trajectory?.runs.constant.proposalErrors).toHaveLength(2);
    expect(report.trajectory?.plane?.results.results).toHaveLength(49);
    expect(lines.some((l) => l.startsWith("backend: wasm"))).toBe(true);
  });

  it("runs the BatchNorm path (preresnet: SWA and every geometry point re-estimate BN) without leaks", async () => {
    const c = resolveConfig(defaultConfig(), {
      out: `${tempDir("wider-bn-")}/run`,
      model: "preresnet",
      trainSubset: 96 as never,
      testSubset: 64 as never,
      batchSize: 32 as never,
      epochs: 2 as never,
      swaStart: 1 as never,
      rays: 1 as never,
      rayPoints: 3 as never,
      segmentPoints: 2 as never,
      planeGrid: 0 as never,
      geometrySubset: 32 as never,
      backend: "wasm",
    });
    if (E.isLeft(c)) throw c.left;
    const progress = { ...makeProgress(process.stdout, true), log: () => {} };
    const before = tf.memory().numTensors;
    const report = await runExperiment(c.right, {
      resume: false,
      force: false,
      progress,
      signal: { aborted: false },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(report.model.batchNorm).toBe(true);
    expect(report.swaAveraged).toBe(1);
    for (const m of [report.results.sgd, report.results.swa, report.results.fge])
      expect(Number.isFinite(m.nll)).toBe(true);
    expect(report.geometry.points).toBe(2 * 3 + 2);
    // trajectory with BatchNorm re-estimated per proposal and average; one proposal: no plane
    expect(report.trajectory?.runs.cyclical.proposalErrors).toHaveLength(1);
    expect(report.trajectory?.plane).toBeNull();
  });

  it("an interrupted run stops after one step and leaves no tensor behind", async () => {
    const c = resolveConfig(defaultConfig(), {
      out: `${tempDir("wider-int-")}/run`,
      trainSubset: 256 as never,
      testSubset: 100 as never,
      batchSize: 32 as never,
      epochs: 2 as never,
      swaStart: 1 as never,
      backend: "wasm",
    });
    if (E.isLeft(c)) throw c.left;
    const progress = { ...makeProgress(process.stdout, true), log: () => {} };
    const before = tf.memory().numTensors;
    await expect(
      runExperiment(c.right, { resume: false, force: false, progress, signal: { aborted: true } }),
    ).rejects.toBeInstanceOf(Interrupted);
    expect(tf.memory().numTensors).toBe(before);
  });
});
