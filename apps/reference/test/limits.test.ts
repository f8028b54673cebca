import { isCycleMidpoint } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decodeRunState } from "../src/checkpoint.js";
import { type Config, defaultConfig } from "../src/config.js";
import { checkLimits, estimateRun, fgeSnapshotCount, heapBytesPerPoint } from "../src/limits.js";
import { makeSchedules } from "../src/schedules.js";

const config = (over: Partial<Record<keyof Config, unknown>>): Config =>
  ({ ...defaultConfig(new Date(0)), ...over }) as Config;

describe("limits", () => {
  it("counts FGE snapshots as the training loop takes them (brute force over the steps)", () => {
    for (const [epochs, swaStart, fgeCycle, spe] of [
      [12, 8, 1, 78],
      [4, 2, 1, 16],
      [10, 3, 3, 7],
      [5, 4, 1, 1],
      [9, 1, 5, 3],
    ] as const) {
      const c = config({ epochs, swaStart, fgeCycle });
      const cycle = makeSchedules(c, spe).fgeCycle;
      const mid = isCycleMidpoint(cycle);
      let n = 0;
      for (let s = 0; s < (epochs - swaStart) * spe; s++) if (mid(s)) n++;
      expect(fgeSnapshotCount(c, spe)).toBe(n);
    }
  });

  it("estimates heap from the geometry points and tensors from the weight sets", () => {
    const e = estimateRun(
      config({ rays: 3, rayPoints: 9, segmentPoints: 11, planeGrid: 7 }),
      1000,
      78,
    );
    expect(e.points).toBe(2 * 3 * 9 + 11 + 49 + 49); // rays, segment, plane, trajectory plane
    expect(e.largestPlan).toBe(49);
    expect(e.fgeSnapshots).toBe(4);
    expect(e.weightSets).toBe(3 + 3 * (11 + 2 + 20 + 4));
    expect(e.tensorBytes).toBe(e.weightSets * 4000);
    expect(e.heapBytes).toBeGreaterThanOrEqual(e.points * heapBytesPerPoint);
    const even = estimateRun(config({ rayPoints: 8 }), 1000, 78);
    expect(even.points).toBe(2 * 3 * 9 + 11 + 49 + 49); // rounded up to odd, as rayDistances does
  });

  it("refuses with the flag, the estimate and the limit; passes what fits", () => {
    const cap = { memory: 2 ** 33, memoryWhat: "test", heap: 2 ** 31, disk: null };
    const big = config({ planeGrid: 100_000 });
    expect(() => checkLimits(big, estimateRun(big, 235_146, 78), cap)).toThrow(
      /--plane-grid 100000: .*1\.00e\+10 geometry points.*TiB.*2\.0 GiB/,
    );
    const fine = config({});
    expect(() => checkLimits(fine, estimateRun(fine, 235_146, 78), cap)).not.toThrow();
    const many = config({ epochs: 100_000, swaStart: 1 });
    expect(() => checkLimits(many, estimateRun(many, 235_146, 78), cap)).toThrow(/FGE snapshots/);
    // Many trajectory proposals of a big model, where training alone fits: that analysis is named.
    const traj = config({ epochs: 400, swaStart: 1, fgeCycle: 200 });
    const e = estimateRun(traj, 235_146, 78);
    expect(e.trajectoryProposals).toBe(399);
    expect(e.weightSets).toBeGreaterThan(e.weightSetsWithoutTrajectory);
    const room = { ...cap, memory: (e.weightSetsWithoutTrajectory + 1) * 4 * 235_146 };
    expect(() => checkLimits(traj, e, room)).toThrow(/--trajectory-grid 7 .*--trajectory-grid 0/);
    const off = config({ epochs: 400, swaStart: 1, fgeCycle: 200, trajectoryGrid: 0 });
    expect(() => checkLimits(off, estimateRun(off, 235_146, 78), room)).not.toThrow();
    const disk = { ...cap, disk: 1000 };
    expect(() => checkLimits(fine, estimateRun(fine, 235_146, 78), disk)).toThrow(/free/);
  });
});

describe("checkpoint codec", () => {
  const state = {
    format: "wider-training-run",
    version: 1,
    states: {},
    groups: [],
    meta: {
      version: 2,
      config: config({ epochs: 4, swaStart: 2 }),
      track: "swa",
      history: [0, 1, 2, 3, 2].map((epoch, k) => ({
        phase: ["sgd", "sgd", "sgd", "sgd", "swa"][k],
        epoch,
        trainLoss: 0.5,
        testError: 0.1,
        lrFirst: 0.05,
        lrLast: 0.04,
        seconds: 1,
        ...(k === 4 ? { swaTestError: 0.09 } : {}),
      })),
      swaSteps: [31],
      swagSteps: [31],
      fgeSteps: [],
      swaAtBudget: null,
      seconds: { sgd: 4, swa: 1 },
    },
  };

  it("decodes a run state written by the app", () => {
    const r = decodeRunState(JSON.parse(JSON.stringify(state)), "ck/manifest.json");
    expect(E.isRight(r) && r.right.track).toBe("swa");
  });

  it("decodes a run state from before trajectoryGrid existed, with its default", () => {
    const old = JSON.parse(JSON.stringify(state)) as { meta: { config: Record<string, unknown> } };
    delete old.meta.config.trajectoryGrid;
    const r = decodeRunState(old, "ck/manifest.json");
    expect(E.isRight(r) && r.right.config.trajectoryGrid).toBe(7);
  });

  it("rejects bad fields with one 'checkpoint is corrupt' line naming the place", () => {
    const bad = (edit: (s: { meta: Record<string, unknown> }) => void): string => {
      const s = JSON.parse(JSON.stringify(state)) as { meta: Record<string, unknown> };
      edit(s);
      const r = decodeRunState(s, "ck/manifest.json");
      if (E.isRight(r)) throw new Error("expected a Left");
      expect(r.left.exitCode).toBe(1);
      expect(r.left.message).not.toContain("\n");
      expect(r.left.message).toMatch(/^checkpoint is corrupt: ck\/manifest.json: /);
      return r.left.message;
    };
    expect(bad((s) => (s.meta.version = 1))).toContain("metadata.version");
    expect(bad((s) => (s.meta.track = "pretrain"))).toContain("metadata.track");
    expect(bad((s) => ((s.meta.config as Record<string, unknown>).model = "gpt"))).toContain(
      "metadata.config.model",
    );
    expect(
      bad((s) => ((s.meta.history as Array<Record<string, unknown>>)[4]!.swaTestError = "x")),
    ).toContain("metadata.history.4.swaTestError");
  });
});
