import { isCycleMidpoint } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decodeTrainState, requiredGroups } from "../src/checkpointCodec.js";
import { type Config, defaultConfig, trainingDifferences } from "../src/config.js";
import { checkLimits, estimateRun, fgeSnapshotCount, heapBytesPerPoint } from "../src/limits.js";
import { makeSchedules } from "../src/training.js";

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
    expect(e.points).toBe(2 * 3 * 9 + 11 + 49);
    expect(e.largestPlan).toBe(49);
    expect(e.fgeSnapshots).toBe(4);
    expect(e.weightSets).toBe(3 + 3 * (7 + 4));
    expect(e.tensorBytes).toBe(e.weightSets * 4000);
    expect(e.heapBytes).toBeGreaterThanOrEqual(e.points * heapBytesPerPoint);
    const even = estimateRun(config({ rayPoints: 8 }), 1000, 78);
    expect(even.points).toBe(2 * 3 * 9 + 11 + 49); // rounded up to odd, as rayDistances does
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
    const disk = { ...cap, disk: 1000 };
    expect(() => checkLimits(fine, estimateRun(fine, 235_146, 78), disk)).toThrow(/free/);
  });
});

describe("checkpoint codec", () => {
  const state = {
    version: 1,
    config: config({ epochs: 4, swaStart: 2 }),
    phase: "swa",
    epoch: 3,
    history: [0, 1, 2, 3, 2].map((epoch, k) => ({
      phase: ["pretrain", "pretrain", "sgd", "sgd", "swa"][k],
      epoch,
      trainLoss: 0.5,
      testError: 0.1,
      lrFirst: 0.05,
      lrLast: 0.04,
      seconds: 1,
      ...(k === 4 ? { swaTestError: 0.09 } : {}),
    })),
    swaCount: 1,
    fgeSteps: [],
    swaSteps: [31],
    seconds: { pretrain: 2, sgd: 2, swa: 1 },
  };

  it("decodes a consistent state and names the groups it needs", () => {
    const r = decodeTrainState(JSON.parse(JSON.stringify(state)), "ck");
    expect(E.isRight(r)).toBe(true);
    if (E.isRight(r))
      expect(requiredGroups(r.right)).toEqual([
        "model",
        "velocity",
        "pretrained",
        "pretrainedVelocity",
        "sgdFinal",
        "swaMean",
      ]);
  });

  it("rejects bad fields and inconsistent states with one 'checkpoint is corrupt' line", () => {
    const bad = (edit: (s: Record<string, unknown>) => void): string => {
      const s = JSON.parse(JSON.stringify(state)) as Record<string, unknown>;
      edit(s);
      const r = decodeTrainState(s, "ck");
      if (E.isRight(r)) throw new Error("expected a Left");
      expect(r.left.exitCode).toBe(1);
      expect(r.left.message).not.toContain("\n");
      expect(r.left.message).toMatch(/^checkpoint is corrupt: ck\/manifest.json: /);
      return r.left.message;
    };
    expect(bad((s) => (s.version = 2))).toContain("metadata.version");
    expect(bad((s) => (s.swaCount = -1))).toContain(
      "metadata.swaCount: expected NonNegativeInt, got -1",
    );
    expect(bad((s) => ((s.config as Record<string, unknown>).model = "gpt"))).toContain(
      "metadata.config.model",
    );
    expect(bad((s) => (s.history as unknown[]).pop())).toContain("4 epoch records");
    expect(bad((s) => (s.epoch = 1))).toContain("outside the swa phase");
    expect(
      bad((s) => ((s.history as Array<Record<string, unknown>>)[4]!.swaTestError = "x")),
    ).toContain("metadata.history.4.swaTestError");
  });

  it("tells training fields from analysis fields", () => {
    const a = config({});
    expect(trainingDifferences(a, { ...a, planeGrid: 3 as Config["planeGrid"], out: "x" })).toEqual(
      [],
    );
    expect(trainingDifferences(a, { ...a, lr: 0.2 as Config["lr"] }).map((d) => d.field)).toEqual([
      "lr",
    ]);
    const s1 = { ...a, swaSchedule: { type: "constant", value: 0.01 } };
    const s2 = { ...a, swaSchedule: { value: 0.01, type: "constant" } };
    expect(trainingDifferences(s1, s2)).toEqual([]); // key order does not count
  });
});
