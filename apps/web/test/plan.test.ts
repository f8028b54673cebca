// The page's schedules and collection steps against the reference app's (`makeSchedules`, the
// Node app's shared protocol): an independent composition of the same @wider/schedules pieces.
import { describe, expect, it } from "vitest";
import { type Config, defaultConfig } from "../../reference/src/config.js";
import { makeSchedules } from "../../reference/src/schedules.js";
import { makePlan, scheduleRows, totalSteps } from "../src/plan.js";
import { defaultSettings, type Settings } from "../src/settings.js";

const cases: Array<Partial<Settings>> = [
  {},
  { trainSubset: 2000, batchSize: 50, epochs: 4, swaStart: 2 },
  { epochs: 10, swaStart: 6, swaEvery: 2, fgeCycle: 2, lr: 0.1, swaLr: 0.02 },
  { epochs: 5, swaStart: 4, swaLr: 0.05, lr: 0.05 }, // constant SWA rate (swaLr = rate at swaStart)
  { trainSubset: 1000, batchSize: 128, fgeCycle: 3, fgeLrMax: 0.1, fgeLrMin: 0.001 },
];

describe("makePlan equals the reference app's schedules", () => {
  it.each(cases)("%o", (over) => {
    const s: Settings = { ...defaultSettings, ...over };
    const p = makePlan(s);
    const spe = Math.floor(s.trainSubset / s.batchSize);
    const { epochs, swaStart, lr, swaLr, swaEvery, fgeCycle, fgeLrMax, fgeLrMin } = s;
    const config = {
      ...defaultConfig(),
      ...{ epochs, swaStart, lr, swaLr, swaEvery, fgeCycle, fgeLrMax, fgeLrMin },
      protocol: "shared",
    } as Config; // the branded numbers of Config: these are valid values of the same fields
    const ref = makeSchedules(config, spe);
    expect(p.stepsPerEpoch).toBe(spe);
    expect([p.swaStartStep, p.budgetStep, p.swaCycle, p.fgeCycle]).toEqual([
      ref.swaStartStep,
      ref.budgetStep,
      ref.swaCycle,
      ref.fgeCycle,
    ]);
    for (let step = 0; step < p.budgetStep; step++) {
      expect(p.schedules.sgd(step)).toBe(ref.sgd(step));
      expect(p.schedules.swa(step)).toBe(ref.swa(step));
      expect(p.schedules.fge(step)).toBe(ref.fge(step));
      expect(p.swaCollect(step)).toBe(ref.swaCollect(step));
      expect(p.fgeCollect(step)).toBe(ref.fgeCollect(step));
    }
  });

  it("counts the steps of the three tracks and samples each schedule over its range", () => {
    const p = makePlan({
      ...defaultSettings,
      trainSubset: 2000,
      batchSize: 50,
      epochs: 4,
      swaStart: 2,
    });
    expect(totalSteps(p)).toBe(160 + 80 + 80);
    const rows = scheduleRows(p);
    expect(rows.length).toBe(320);
    expect(rows.filter((r) => r.track === "swa")[0]).toEqual({
      step: 80,
      lr: p.schedules.swa(80),
      track: "swa",
    });
    // The SWA rate reaches swaLr at each cycle's end, where it averages.
    const ends = rows.filter((r) => r.track === "swa" && p.swaCollect(r.step));
    expect(ends.map((r) => r.step)).toEqual([119, 159]);
    for (const r of ends) expect(r.lr).toBeCloseTo(0.01, 12);
  });
});
