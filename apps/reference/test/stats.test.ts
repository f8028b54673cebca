import { describe, expect, it } from "vitest";
import {
  incompleteBeta,
  logGamma,
  pairedDifference,
  studentTwoSided,
  summarize,
} from "../src/stats.js";

describe("logGamma and incompleteBeta against closed forms", () => {
  it("matches factorials and Gamma(1/2) to 1e-12 relative", () => {
    for (const [x, g] of [
      [1, 1],
      [2, 1],
      [5, 24],
      [10, 362880],
      [0.5, Math.sqrt(Math.PI)],
      [1.5, Math.sqrt(Math.PI) / 2],
    ] as const)
      expect(Math.abs(Math.exp(logGamma(x)) - g) / g).toBeLessThan(1e-12);
  });
  it("I_x(a, 1) = x^a, I_x(1, b) = 1 - (1 - x)^b, I_x(a, b) = 1 - I_{1-x}(b, a)", () => {
    for (const x of [0.01, 0.2, 0.5, 0.77, 0.999]) {
      for (const a of [0.5, 1, 2.5, 7]) {
        expect(incompleteBeta(x, a, 1)).toBeCloseTo(x ** a, 12);
        expect(incompleteBeta(x, 1, a)).toBeCloseTo(1 - (1 - x) ** a, 12);
        expect(incompleteBeta(x, a, 3.5)).toBeCloseTo(1 - incompleteBeta(1 - x, 3.5, a), 12);
      }
    }
  });
  it("refuses arguments outside its domain", () => {
    expect(() => incompleteBeta(1.5, 1, 1)).toThrow(/x in \[0, 1\]/);
    expect(() => incompleteBeta(0.5, 0, 1)).toThrow(/a, b > 0/);
  });
});

describe("studentTwoSided", () => {
  it("equals the closed forms for df = 1 (Cauchy) and df = 2 to 1e-12", () => {
    for (const t of [0, 0.3, 1, 2.5, 10, -4]) {
      expect(studentTwoSided(t, 1)).toBeCloseTo(1 - (2 / Math.PI) * Math.atan(Math.abs(t)), 12);
      expect(studentTwoSided(t, 2)).toBeCloseTo(1 - Math.abs(t) / Math.sqrt(2 + t * t), 12);
    }
  });
  it("gives the tabulated critical values (5 significant digits)", () => {
    // Two-sided critical values of Student's t (standard tables).
    for (const [t, df, p] of [
      [12.7062, 1, 0.05],
      [2.776445, 4, 0.05],
      [2.570582, 5, 0.05],
      [2.262157, 9, 0.05],
      [3.169273, 10, 0.01],
      [1.959964, 1e6, 0.05],
    ] as const)
      expect(Math.abs(studentTwoSided(t, df) - p)).toBeLessThan(p * 1e-4);
  });
});

describe("summarize and pairedDifference", () => {
  it("uses the n - 1 standard deviation and skips missing values", () => {
    const s = summarize([1, 2, 3, null, Number.NaN]);
    expect(s.mean).toBe(2);
    expect(s.std).toBe(1);
    expect(s.values).toHaveLength(5);
    expect(summarize([]).mean).toBeNull();
    expect(summarize([4]).std).toBe(0);
  });
  it("computes the paired t statistic by hand", () => {
    const a = [0.91, 0.92, 0.9, 0.93, 0.915];
    const b = [0.9, 0.905, 0.895, 0.92, 0.9];
    const d = a.map((x, i) => x - (b[i] as number));
    const mean = d.reduce((s, x) => s + x, 0) / 5;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / 4);
    const r = pairedDifference(a, b);
    expect(r.n).toBe(5);
    expect(r.mean).toBeCloseTo(mean, 15);
    expect(r.std).toBeCloseTo(sd, 15);
    expect(r.t).toBeCloseTo(mean / (sd / Math.sqrt(5)), 12);
    expect(r.p).toBeCloseTo(studentTwoSided(r.t as number, 4), 15);
    expect(r.p as number).toBeLessThan(0.05);
  });
  it("gives no test with one pair or zero spread, and refuses unequal lengths", () => {
    expect(pairedDifference([1], [0]).p).toBeNull();
    expect(pairedDifference([1, 2], [0, 1]).p).toBeNull();
    expect(pairedDifference([1, null, 3], [0, 1, 1]).n).toBe(2);
    // Equal differences up to float rounding (0.9048 − 0.904 vs 0.9046 − 0.9038): no test either,
    // not p = 4e-14 from a std of 8e-17.
    const rounded = pairedDifference([0.9048, 0.9046], [0.904, 0.9038]);
    expect(rounded.std).toBeGreaterThan(0);
    expect(rounded.p).toBeNull();
    // A real spread still gets its test.
    expect(pairedDifference([0.9048, 0.9047], [0.904, 0.9038]).p).not.toBeNull();
    expect(() => pairedDifference([1], [1, 2])).toThrow(/1 values against 2/);
  });
});
