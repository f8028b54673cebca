import { WiderFailure } from "@wider/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gather, holdOut, type Split, subset } from "../src/split.js";
import { channelStats } from "../src/stats.js";

const split: Split = (() => {
  const count = 50;
  const images = new Uint8Array(count * 2 * 2 * 3);
  for (let i = 0; i < images.length; i++) images[i] = (i * 97 + 13) % 256;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 5);
  return { images, labels, count, imageShape: [2, 2, 3], numClasses: 5 };
})();

describe("subset", () => {
  it("keeps the first n examples as views, clamped to the count", () => {
    const s = subset(split, 7);
    expect(s.count).toBe(7);
    expect(s.images.buffer).toBe(split.images.buffer);
    expect(Array.from(s.images)).toEqual(Array.from(split.images.subarray(0, 7 * 12)));
    expect(Array.from(s.labels)).toEqual(Array.from(split.labels.subarray(0, 7)));
    expect(subset(split, 1000).count).toBe(50);
    expect(() => subset(split, -1)).toThrow(WiderFailure);
  });
});

describe("gather and holdOut", () => {
  it("gather copies the examples at the indices, in order", () => {
    const g = gather(split, [4, 0]);
    expect(g.count).toBe(2);
    expect(Array.from(g.images.subarray(0, 12))).toEqual(Array.from(split.images.subarray(48, 60)));
    expect(Array.from(g.labels)).toEqual([4, 0]);
    expect(() => gather(split, [50])).toThrow(WiderFailure);
  });

  it("holdOut partitions the examples: disjoint, complete, seeded, rest in order", () => {
    // Image i's first byte, (97 * 12 i + 13) mod 256, differs for each i < 64: it identifies it.
    const id = (s: Split, k: number) => s.images[k * 12] ?? -1;
    const ids = Array.from({ length: 50 }, (_, i) => id(split, i));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (count, seed) => {
          const { rest, held } = holdOut(split, { count, seed });
          expect(held.count).toBe(count);
          expect(rest.count).toBe(50 - count);
          const restIds = Array.from({ length: rest.count }, (_, k) => id(rest, k));
          const heldIds = Array.from({ length: held.count }, (_, k) => id(held, k));
          expect([...restIds, ...heldIds].sort((a, b) => a - b)).toEqual(
            [...ids].sort((a, b) => a - b),
          );
          // rest keeps the original order
          const positions = restIds.map((v) => ids.indexOf(v));
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
          expect(holdOut(split, { count, seed }).held.labels).toEqual(held.labels);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("channelStats", () => {
  it("matches a naive per-channel mean and population std", () => {
    const stats = channelStats(split);
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let i = c; i < split.images.length; i += 3) values.push((split.images[i] ?? 0) / 255);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length;
      expect(stats.mean[c]).toBeCloseTo(mean, 12);
      expect(stats.std[c]).toBeCloseTo(Math.sqrt(variance), 12);
    }
  });
});
