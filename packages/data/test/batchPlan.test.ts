import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planBatches } from "../src/batchPlan.js";

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/random.json", import.meta.url), "utf8"),
) as {
  plans: {
    count: number;
    batchSize: number;
    seed: number;
    shuffle: boolean;
    dropRemainder: boolean;
    batches: number[][];
  }[];
};

describe("planBatches", () => {
  it("matches the Python reference plans", () => {
    for (const { batches, ...options } of fixture.plans) {
      expect(planBatches(options).map((b) => Array.from(b))).toEqual(batches);
    }
  });

  it("covers every index once, in batches of batchSize, the last maybe smaller", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (count, batchSize, seed, shuffle) => {
          const plan = planBatches({ count, batchSize, seed, shuffle });
          expect(plan.length).toBe(Math.ceil(count / batchSize));
          plan.forEach((batch, j) => {
            if (j < plan.length - 1) expect(batch.length).toBe(batchSize);
            else expect(batch.length).toBe(count - batchSize * (plan.length - 1));
          });
          const all = plan.flatMap((b) => Array.from(b));
          expect([...all].sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
          if (!shuffle) expect(all).toEqual([...Array(count).keys()]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("drops only a short last batch with dropRemainder", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer(),
        (count, batchSize, seed) => {
          const kept = planBatches({ count, batchSize, seed, dropRemainder: true });
          const all = planBatches({ count, batchSize, seed });
          expect(kept.length).toBe(Math.floor(count / batchSize));
          for (const batch of kept) expect(batch.length).toBe(batchSize);
          expect(kept).toEqual(all.slice(0, kept.length));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("is deterministic in the seed and changes with it", () => {
    const a = planBatches({ count: 1000, batchSize: 100, seed: 3 });
    expect(planBatches({ count: 1000, batchSize: 100, seed: 3 })).toEqual(a);
    expect(planBatches({ count: 1000, batchSize: 100, seed: 4 })).not.toEqual(a);
  });

  it("refuses a batch size or count that is not a valid integer", () => {
    expect(() => planBatches({ count: 10, batchSize: 0, seed: 0 })).toThrow(/batchSize/);
    expect(() => planBatches({ count: 10, batchSize: 2.5, seed: 0 })).toThrow(/batchSize/);
    expect(() => planBatches({ count: -1, batchSize: 2, seed: 0 })).toThrow(/count/);
    expect(() => planBatches({ count: 10, batchSize: 2, seed: 0.5 })).toThrow(/seed/);
  });
});
