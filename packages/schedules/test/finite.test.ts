import fc from "fast-check";
import { isLeft, isRight } from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { exponential, fromSpec, isScheduleError, MAX_SPEC_DEPTH } from "../src/index.js";

// Rates and other numbers over the whole finite range, edge cases included (1.79e308, 5e-324).
const anyNum = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: 0, max: 10, noNaN: true }),
  fc.integer({ min: -2, max: 1000 }),
  fc.constantFrom(0, 1, 0.5, 10, Number.MAX_VALUE, Number.MIN_VALUE, 1e308, 1e-300),
);

const leafSpec = fc.oneof(
  fc.record({ type: fc.constant("constant"), value: anyNum }),
  fc.record({ type: fc.constant("linear"), from: anyNum, to: anyNum, steps: anyNum }),
  fc.record({ type: fc.constant("cosine"), from: anyNum, to: anyNum, steps: anyNum }),
  fc.record({
    type: fc.constant("exponential"),
    from: anyNum,
    decay: anyNum,
    steps: anyNum,
    staircase: fc.boolean(),
  }),
  fc.record({
    type: fc.constant("piecewiseConstant"),
    boundaries: fc.constantFrom([], [1], [2, 5]),
    values: fc.array(anyNum, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constant("warmup"), steps: anyNum, to: anyNum }),
  fc.record({ type: fc.constant("cyclical"), high: anyNum, low: anyNum, cycle: anyNum }),
  fc.record({ type: fc.constant("triangular"), high: anyNum, low: anyNum, cycle: anyNum }),
  fc.record(
    {
      type: fc.constant("swaReference"),
      lrInit: anyNum,
      stepsPerEpoch: anyNum,
      swaLr: anyNum,
      swaStart: anyNum,
      epochs: anyNum,
    },
    { requiredKeys: ["type", "lrInit", "stepsPerEpoch"] },
  ),
  fc.record({
    type: fc.constant("swalr"),
    from: anyNum,
    to: anyNum,
    annealSteps: anyNum,
    strategy: fc.constantFrom("cos", "linear"),
  }),
);

const spec = fc.letrec((tie) => ({
  spec: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafSpec,
    fc.record({
      type: fc.constant("join"),
      schedules: fc.array(tie("spec"), { minLength: 2, maxLength: 2 }),
      boundaries: fc.constantFrom([1], [3], [1000]),
    }),
  ),
})).spec;

const steps = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 20 });

describe("every schedule fromSpec accepts gives finite rates", () => {
  it("for any spec (numbers over the whole double range) at steps in 0..1e6", () => {
    let accepted = 0;
    fc.assert(
      fc.property(spec, steps, (s, ss) => {
        const r = fromSpec(s);
        if (isLeft(r)) {
          expect(isScheduleError(r.left)).toBe(true);
          return;
        }
        accepted++;
        for (const step of [0, 1, 999_999, 1_000_000, ...ss]) {
          const v = r.right(step);
          expect(Number.isFinite(v), `${JSON.stringify(s)} at step ${step} gives ${v}`).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});

describe("exponential: decay must keep the rate finite and non-increasing", () => {
  it("refuses decay > 1 both in the constructor (throws) and in fromSpec (Left)", () => {
    expect(() => exponential({ from: 0.1, decay: 10, steps: 1 })).toThrow(
      /exponential: decay is 10; expected a number in \(0, 1\]/,
    );
    const r = fromSpec({ type: "exponential", from: 0.1, decay: 10, steps: 1 });
    expect(isLeft(r) && r.left.message).toMatch(
      /exponential: \$\.decay is 10; expected a number in \(0, 1\]/,
    );
    const ok = fromSpec({ type: "exponential", from: 0.1, decay: 1, steps: 1 });
    expect(isRight(ok) && ok.right(1_000_000)).toBe(0.1);
  });
});

describe("join nesting depth is bounded", () => {
  const nested = (depth: number): unknown => {
    let s: unknown = { type: "constant", value: 0.1 };
    for (let i = 0; i < depth; i++)
      s = { type: "join", schedules: [{ type: "constant", value: 0.2 }, s], boundaries: [1] };
    return s;
  };

  it(`accepts ${MAX_SPEC_DEPTH} levels and returns a Left (no RangeError) for thousands`, () => {
    const ok = fromSpec(nested(MAX_SPEC_DEPTH));
    expect(isRight(ok) && ok.right(0)).toBe(0.2);
    expect(isRight(ok) && ok.right(MAX_SPEC_DEPTH)).toBe(0.1);
    for (const depth of [MAX_SPEC_DEPTH + 1, 5000, 100_000]) {
      const r = fromSpec(nested(depth));
      expect(isLeft(r)).toBe(true);
      if (isLeft(r)) {
        expect(isScheduleError(r.left)).toBe(true);
        expect(r.left.message).toMatch(
          new RegExp(
            `^join: \\$(\\.schedules\\[1\\]){${MAX_SPEC_DEPTH}} is "\\d+ levels of nested joins"; expected at most ${MAX_SPEC_DEPTH} levels`,
          ),
        );
      }
    }
  });
});
