import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { atCycleEnds, when } from "../src/index.js";

describe("when", () => {
  it("is true exactly at start + k * every", () => {
    fc.assert(
      fc.property(
        fc.nat(50),
        fc.integer({ min: 1, max: 20 }),
        fc.nat(200),
        (start, every, step) => {
          const want = step >= start && Number.isInteger((step - start) / every);
          expect(when({ start, every })(step)).toBe(want);
        },
      ),
    );
    expect([0, 1, 2].map(when())).toEqual([true, true, true]);
    expect([9, 10, 11, 12].map(when({ start: 10, every: 2 }))).toEqual([false, true, false, true]);
  });

  it("rejects bad options naming the field", () => {
    expect(() => when({ every: 0 })).toThrow(/when: every is 0; use an integer >= 1/);
    expect(() => when({ start: -1 })).toThrow(
      expect.objectContaining({ _tag: "AveragingError", kind: "config" }),
    );
    expect(() => when({ start: 1.5 })).toThrow(/start is 1.5/);
  });
});

describe("atCycleEnds", () => {
  it("is true at step % cycle === cycle - 1, from start on", () => {
    const steps = [...Array(13).keys()];
    expect(steps.filter(atCycleEnds(4))).toEqual([3, 7, 11]);
    expect(steps.filter(atCycleEnds(4, { start: 5 }))).toEqual([7, 11]);
    expect(steps.filter(atCycleEnds(1))).toEqual(steps);
  });

  it("rejects a bad cycle (via @wider/schedules) or start", () => {
    expect(() => atCycleEnds(0)).toThrow();
    expect(() => atCycleEnds(4, { start: -2 })).toThrow(/start is -2/);
  });
});
