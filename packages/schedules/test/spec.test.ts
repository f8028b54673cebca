import { isLeft, isRight } from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  constant,
  cosine,
  cyclical,
  fromSpec,
  join,
  type Schedule,
  type ScheduleError,
  ScheduleSpec,
  swalr,
  swaReference,
  values,
  warmup,
} from "../src/index.js";

const ok = (json: unknown): Schedule => {
  const r = fromSpec(json);
  if (isLeft(r)) throw new Error(`unexpected Left: ${r.left.message}`);
  return r.right;
};
const err = (json: unknown): ScheduleError => {
  const r = fromSpec(json);
  if (isRight(r)) throw new Error("expected a Left");
  return r.left;
};

describe("fromSpec", () => {
  it("builds the same schedule as the constructor", () => {
    const spec = { type: "cyclical", high: 0.05, low: 0.001, cycle: 390 };
    expect(values(ok(spec), 800)).toEqual(
      values(cyclical({ high: 0.05, low: 0.001, cycle: 390 }), 800),
    );
    expect(values(ok({ type: "swalr", from: 0.1, to: 0.05, annealSteps: 3 }), 5)).toEqual(
      values(swalr({ from: 0.1, to: 0.05, annealSteps: 3 }), 5),
    );
    expect(
      values(ok({ type: "swaReference", lrInit: 0.1, epochs: 10, stepsPerEpoch: 2 }), 20),
    ).toEqual(values(swaReference({ lrInit: 0.1, epochs: 10, stepsPerEpoch: 2 }), 20));
  });

  it("builds nested joins", () => {
    const spec = {
      type: "join",
      boundaries: [10, 110],
      schedules: [
        { type: "warmup", steps: 10, to: 0.1 },
        { type: "cosine", from: 0.1, to: 0.01, steps: 100 },
        {
          type: "join",
          boundaries: [5],
          schedules: [
            { type: "constant", value: 0.01 },
            { type: "cyclical", high: 0.01, low: 0.001, cycle: 3 },
          ],
        },
      ],
    };
    expect(ScheduleSpec.is(spec)).toBe(true);
    const want = join(
      [
        warmup({ steps: 10, to: 0.1 }),
        cosine({ from: 0.1, to: 0.01, steps: 100 }),
        join([constant(0.01), cyclical({ high: 0.01, low: 0.001, cycle: 3 })], [5]),
      ],
      [10, 110],
    );
    expect(values(ok(spec), 130)).toEqual(values(want, 130));
  });

  it("names the field path, the value and what is allowed", () => {
    expect(err({ type: "cyclical", high: 0.05, low: 0.001, cycle: 0 }).message).toBe(
      "cyclical: $.cycle is 0; expected a positive integer (the cycle length in steps)",
    );
    const nested = err({
      type: "join",
      boundaries: [5],
      schedules: [
        { type: "constant", value: 0.1 },
        { type: "triangular", high: 0.05, low: 0.001, cycle: 3 },
      ],
    });
    expect(nested.path).toBe("$.schedules[1].cycle");
    expect(nested.value).toBe(3);
    expect(nested.fix).toContain("even integer");
  });

  it("reports type errors from the codec with their path", () => {
    const e = err({ type: "cyclical", high: "0.05", low: 0.001, cycle: 4 });
    expect(e.message).toBe('cyclical: $.high is "0.05"; expected a number');
    expect(err({ type: "linear", from: 0.1, to: 0 }).message).toBe(
      "linear: $.steps is missing; expected a number",
    );
    expect(err({ type: "swalr", from: 0.1, to: 0.05, annealSteps: 2, strategy: "step" }).path).toBe(
      "$.strategy",
    );
    expect(err({ type: "piecewiseConstant", boundaries: [1, "x"], values: [1, 2, 3] }).path).toBe(
      "$.boundaries[1]",
    );
    expect(
      err({
        type: "join",
        boundaries: [2],
        schedules: [
          { type: "constant", value: 1 },
          { type: "linear", from: 1, to: 0, steps: null },
        ],
      }).path,
    ).toBe("$.schedules[1].steps");
  });

  it("rejects unknown types, unknown fields and non-objects", () => {
    const e = err({ type: "sawtooth", high: 1 });
    expect(e.path).toBe("$.type");
    expect(e.message).toContain('"cyclical"');
    expect(e.message).toContain('"join"');
    const typo = err({ type: "cyclical", hihg: 0.05, low: 0.001, cycle: 4 });
    expect(typo.path).toBe("$.hihg");
    expect(typo.message).toBe(
      "cyclical: $.hihg is not a known field (known: cycle, high, low, type)",
    );
    expect(err(null).path).toBe("$");
    expect(err([1, 2]).path).toBe("$");
    expect(
      err({ type: "join", boundaries: [2], schedules: [{ type: "constant", value: 1 }, 7] }).path,
    ).toBe("$.schedules[1]");
  });

  it("maps the constant spec's `value` field and join's count errors to spec paths", () => {
    expect(err({ type: "constant", value: -1 }).path).toBe("$.value");
    expect(
      err({ type: "join", boundaries: [2, 3], schedules: [{ type: "constant", value: 1 }] }).path,
    ).toBe("$.schedules");
    expect(
      err({
        type: "join",
        boundaries: [0],
        schedules: [
          { type: "constant", value: 1 },
          { type: "constant", value: 1 },
        ],
      }).path,
    ).toBe("$.boundaries[0]");
  });

  it("the codec decodes a valid spec and rejects an invalid shape", () => {
    expect(
      isRight(
        ScheduleSpec.decode({
          type: "swalr",
          from: 0.1,
          to: 0.05,
          annealSteps: 0,
          strategy: "linear",
        }),
      ),
    ).toBe(true);
    expect(isLeft(ScheduleSpec.decode({ type: "cyclical", high: 0.05 }))).toBe(true);
  });
});
