import { swaReference } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { type Config, defaultConfig } from "../src/config.js";
import { resolveConfig } from "../src/configDecode.js";
import { makeSchedules } from "../src/schedules.js";

const config = (layer: Partial<Record<keyof Config, unknown>>): Config => {
  const c = resolveConfig(defaultConfig(), layer as never);
  if (E.isLeft(c)) throw c.left;
  return c.right;
};

const collected = (f: (s: number) => boolean, to: number): number[] =>
  Array.from({ length: to }, (_, s) => s).filter(f);

describe("the run's schedules: one global step for rates and collection", () => {
  it("shared: SWA averages at every cycle's lowest rate, FGE snapshots at every triangle's bottom", () => {
    const c = config({ epochs: 12, swaStart: 8, swaEvery: 2, fgeCycle: 2 });
    const spe = 10;
    const s = makeSchedules(c, spe);
    const swaSteps = collected(s.swaCollect, s.swaEnd);
    expect(swaSteps).toEqual([99, 119]);
    for (const step of swaSteps) expect(s.swa(step)).toBeCloseTo(c.swaLr, 12);
    // the cyclical piece falls from the SGD rate at the pretrained point (paper: t = 1/c at its first step)
    expect(s.swa(80)).toBeCloseTo((1 - 1 / 20) * s.sgd(80) + c.swaLr / 20, 12);
    for (let k = 80; k < 120; k++) expect(s.swa(k)).toBeGreaterThanOrEqual(c.swaLr - 1e-15);
    const fgeSteps = collected(s.fgeCollect, s.budgetStep);
    expect(fgeSteps).toEqual([90, 110]);
    for (const step of fgeSteps) expect(s.fge(step)).toBeCloseTo(c.fgeLrMin, 12);
    expect(s.fge(80)).toBeCloseTo(c.fgeLrMax, 12);
    // before the pretrained point every track trains on the SGD schedule
    for (const k of [0, 40, 79]) expect([s.swa(k), s.fge(k)]).toEqual([s.sgd(k), s.sgd(k)]);
  });

  it("authors: SWA is its own run on the compressed schedule, averaging each epoch from swaStart - 1", () => {
    const c = config({
      protocol: "authors",
      epochs: 40,
      swaStart: 32,
      swaLr: 0.01,
      lr: 0.05,
      swaExtend: 10,
    });
    const spe = 5;
    const s = makeSchedules(c, spe);
    expect(s.swaFrom).toBe(0);
    const oracle = swaReference({ lrInit: 0.05, swaLr: 0.01, swaStart: 32, stepsPerEpoch: spe });
    for (const k of [0, 50, 100, 150, 159, 160, 199, 249]) expect(s.swa(k)).toBe(oracle(k));
    const steps = collected(s.swaCollect, s.swaEnd);
    expect(steps[0]).toBe(32 * spe - 1);
    expect(steps).toHaveLength(50 - 32 + 1);
    expect(steps.filter((k) => k < s.budgetStep)).toHaveLength(40 - 32 + 1);
    for (const k of steps) expect(s.swa(k)).toBeCloseTo(0.01, 12);
  });
});
