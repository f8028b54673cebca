import fc from "fast-check";
import { describe, it } from "vitest";
import {
  constant,
  cosine,
  cyclical,
  exponential,
  join,
  linear,
  swalr,
  swaReference,
  triangular,
  warmup,
} from "../src/index.js";

const rate = fc.double({ min: 0, max: 10, noNaN: true, noDefaultInfinity: true });
const highLow = fc
  .tuple(rate, rate)
  .map(([a, b]) => (a >= b ? { high: a, low: b } : { high: b, low: a }));
const step = fc.integer({ min: 0, max: 1_000_000 });
const RUNS = { numRuns: 200 };

describe("properties", () => {
  it("cyclical and triangular stay within [low, high]", () => {
    fc.assert(
      fc.property(highLow, fc.integer({ min: 1, max: 500 }), step, ({ high, low }, c, s) => {
        const v = cyclical({ high, low, cycle: c })(s);
        const w = triangular({ high, low, cycle: 2 * c })(s);
        return low <= v && v <= high && low <= w && w <= high;
      }),
      RUNS,
    );
  });

  it("cyclical and triangular are periodic with their cycle", () => {
    fc.assert(
      fc.property(
        highLow,
        fc.integer({ min: 1, max: 500 }),
        step,
        fc.integer({ min: 1, max: 50 }),
        ({ high, low }, c, s, k) => {
          const a = cyclical({ high, low, cycle: c });
          const b = triangular({ high, low, cycle: 2 * c });
          return a(s) === a(s + k * c) && b(s) === b(s + 2 * k * c);
        },
      ),
      RUNS,
    );
  });

  it("cyclical is non-increasing within a cycle; triangular falls then rises", () => {
    fc.assert(
      fc.property(
        highLow,
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 1000 }),
        ({ high, low }, c, k) => {
          const a = cyclical({ high, low, cycle: c });
          const b = triangular({ high, low, cycle: 2 * c });
          // Up to rounding: a few ulps of `high` (or of the smallest normal double).
          const eps = 8 * Number.EPSILON * high + 1e-300;
          for (let i = 1; i < c; i++) if (a(k * c + i) > a(k * c + i - 1) + eps) return false;
          const base = 2 * c * k;
          for (let i = 1; i <= c; i++) if (b(base + i) > b(base + i - 1) + eps) return false;
          for (let i = c + 1; i < 2 * c; i++) if (b(base + i) < b(base + i - 1) - eps) return false;
          return a(k * c + c - 1) === low && b(base + c) === low && b(base) === high;
        },
      ),
      RUNS,
    );
  });

  it("monotone pieces: linear, cosine, warmup, exponential, swalr move one way towards `to`", () => {
    fc.assert(
      fc.property(
        rate,
        rate,
        fc.integer({ min: 0, max: 300 }),
        fc.constantFrom("cos" as const, "linear" as const),
        (from, to, n, strategy) => {
          const pieces = [
            linear({ from, to, steps: n }),
            cosine({ from, to, steps: n }),
            warmup({ steps: n, to }),
            swalr({ from, to, annealSteps: n, strategy }),
          ];
          const sign = Math.sign(to - from);
          for (const p of pieces)
            for (let s = 1; s <= n + 2; s++) {
              const d = p(s) - p(s - 1);
              // warmup goes from 0 up; the others from `from` towards `to`.
              const dir = p === pieces[2] ? 1 : sign;
              if (d * dir < -1e-14) return false;
            }
          return pieces.every((p) => p(n + 5) === to);
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(
        rate,
        fc.double({ min: 0.01, max: 0.999, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        (from, decay, n) => {
          const s = exponential({ from, decay, steps: n });
          for (let i = 1; i < 3 * n; i++) if (s(i) > s(i - 1)) return false;
          return true;
        },
      ),
      RUNS,
    );
  });

  it("swaReference is non-increasing when swaLr <= lrInit and constant within an epoch", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 5 }),
        (lrInit, frac, swaStart, spe) => {
          const s = swaReference({ lrInit, swaLr: lrInit * frac, swaStart, stepsPerEpoch: spe });
          for (let i = 1; i < spe * (swaStart + 3); i++) {
            if (s(i) > s(i - 1) + 1e-15) return false;
            if (i % spe !== 0 && s(i) !== s(i - 1)) return false;
          }
          return true;
        },
      ),
      { numRuns: 100 },
    );
  });

  it("join is continuous where pieces meet: warmup -> cosine -> constant", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        (peak, frac, w, n) => {
          const end = peak * frac;
          const s = join(
            [
              warmup({ steps: w, to: peak }),
              cosine({ from: peak, to: end, steps: n }),
              constant(end),
            ],
            [w, w + n],
          );
          // At each boundary the new piece starts where the old one was heading:
          // the jump is no larger than the largest one-step change of either piece.
          const maxSlope = Math.max(peak / w, (Math.PI * (peak - end)) / (2 * n)) + 1e-15;
          const jumps = [w, w + n].map((b) => Math.abs(s(b) - s(b - 1)));
          return s(w) === peak && s(w + n) === end && jumps.every((j) => j <= maxSlope);
        },
      ),
      RUNS,
    );
  });

  it("join re-bases every piece: join(pieces)(b_k + r) = pieces[k](r)", () => {
    fc.assert(
      fc.property(
        highLow,
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 400 }),
        ({ high, low }, b, c, s) => {
          const a = cyclical({ high, low, cycle: c });
          const j = join([constant(high), a], [b]);
          return j(b + s) === a(s) && (s >= b || j(s) === high);
        },
      ),
      RUNS,
    );
  });
});
