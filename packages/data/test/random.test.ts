import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveSeed, mulberry32, shuffledIndices } from "../src/random.js";

// Written by scripts/random_reference.py, an independent Python implementation.
const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/random.json", import.meta.url), "utf8"),
) as {
  uint32: { seed: number; values: number[] }[];
  nextInt: { seed: number; n: number; values: number[] }[];
  shuffle: { count: number; seed: number; order: number[] }[];
  shuffleLarge: { count: number; seed: number; head: number[]; weightedSum: number }[];
  deriveSeed: { seed: number; stream: number; value: number }[];
};

describe("mulberry32 against the Python reference", () => {
  it("gives the same uint32 sequence for each seed", () => {
    expect(fixture.uint32.length).toBeGreaterThan(0);
    for (const { seed, values } of fixture.uint32) {
      const rng = mulberry32(seed);
      expect(values.map(() => rng.nextUint32())).toEqual(values);
    }
  });

  it("gives the same nextInt draws", () => {
    for (const { seed, n, values } of fixture.nextInt) {
      const rng = mulberry32(seed);
      expect(values.map(() => rng.nextInt(n))).toEqual(values);
    }
  });

  it("gives the same derived seeds", () => {
    for (const { seed, stream, value } of fixture.deriveSeed) {
      expect(deriveSeed(seed, stream)).toBe(value);
    }
  });
});

describe("shuffledIndices", () => {
  it("matches the Python reference permutations", () => {
    for (const { count, seed, order } of fixture.shuffle) {
      expect(Array.from(shuffledIndices(count, seed))).toEqual(order);
    }
    for (const { count, seed, head, weightedSum } of fixture.shuffleLarge) {
      const order = shuffledIndices(count, seed);
      expect(Array.from(order.subarray(0, head.length))).toEqual(head);
      let sum = 0;
      for (let i = 0; i < order.length; i++) sum += i * (order[i] ?? 0);
      expect(sum).toBe(weightedSum);
    }
  });

  it("is a permutation, and the same for the same seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer(), (count, seed) => {
        const order = shuffledIndices(count, seed);
        expect(Array.from(order).sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
        expect(shuffledIndices(count, seed)).toEqual(order);
      }),
      { numRuns: 50 },
    );
  });

  it("puts each index in each position about equally often", () => {
    // 3 elements, 6000 seeds: each of the 9 (index, position) cells expects 2000.
    const counts = new Array(9).fill(0);
    for (let seed = 0; seed < 6000; seed++) {
      const order = shuffledIndices(3, seed);
      for (let p = 0; p < 3; p++) counts[p * 3 + (order[p] ?? 0)]++;
    }
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(150); // ~4.7 sigma
  });
});
