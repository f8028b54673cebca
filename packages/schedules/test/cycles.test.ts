import { describe, expect, it } from "vitest";
import { cycleIndex, cyclical, isCycleEnd, isCycleMidpoint, triangular } from "../src/index.js";

describe("cycle helpers", () => {
  it("cycleIndex is floor(step / cycle)", () => {
    expect([0, 3, 4, 7, 8].map(cycleIndex(4))).toEqual([0, 0, 1, 1, 2]);
  });
  it("isCycleEnd is true at step % cycle === cycle - 1", () => {
    expect([0, 1, 2, 3, 4, 7, 8].map(isCycleEnd(4))).toEqual([
      false,
      false,
      false,
      true,
      false,
      true,
      false,
    ]);
    expect([0, 1, 2].map(isCycleEnd(1))).toEqual([true, true, true]);
  });
  it("isCycleMidpoint is true at step % cycle === cycle / 2", () => {
    expect([0, 1, 2, 3, 4, 6, 10].map(isCycleMidpoint(4))).toEqual([
      false,
      false,
      true,
      false,
      false,
      true,
      true,
    ]);
  });
  it("isCycleEnd marks exactly the steps where cyclical() is low", () => {
    const s = cyclical({ high: 0.05, low: 0.001, cycle: 7 });
    const end = isCycleEnd(7);
    for (let step = 0; step < 30; step++) expect(s(step) === 0.001).toBe(end(step));
  });
  it("isCycleMidpoint marks exactly the steps where triangular() is low", () => {
    const s = triangular({ high: 0.05, low: 0.001, cycle: 10 });
    const mid = isCycleMidpoint(10);
    for (let step = 0; step < 40; step++) expect(s(step) === 0.001).toBe(mid(step));
  });
});
