import { errorKinds, isWiderError, WiderFailure } from "@wider/errors";
import { isLeft } from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  constant,
  cosine,
  cycleIndex,
  cyclical,
  exponential,
  fromSpec,
  isCycleEnd,
  isCycleMidpoint,
  isScheduleError,
  join,
  linear,
  piecewiseConstant,
  type ScheduleError,
  swalr,
  swaReference,
  toSvg,
  triangular,
  values,
  warmup,
} from "../src/index.js";

/** Runs `f`, expects a ScheduleError, returns it. */
const thrown = (f: () => unknown): ScheduleError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isScheduleError(e)).toBe(true);
    return e as ScheduleError;
  }
  throw new Error("expected a ScheduleError, nothing was thrown");
};

describe("constructors reject invalid arguments with a ScheduleError naming field, value, allowed", () => {
  it("cycle = 0, negative, non-integer, NaN, Infinity", () => {
    for (const cycle of [0, -3, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = thrown(() => cyclical({ high: 0.05, low: 0.001, cycle }));
      expect(e.path).toBe("cycle");
      expect(Object.is(e.value, cycle)).toBe(true);
      expect(e.message).toContain(`cycle is ${cycle}`);
      expect(e.message).toContain("positive integer");
      expect(e.message.startsWith("cyclical: ")).toBe(true);
      expect(e.fix).toBe("a positive integer (the cycle length in steps)");
    }
    expect(thrown(() => cycleIndex(0)).path).toBe("cycle");
    expect(thrown(() => isCycleEnd(1.5)).path).toBe("cycle");
  });

  it("triangular and isCycleMidpoint need an even cycle", () => {
    for (const cycle of [1, 3, 0, 7]) {
      expect(thrown(() => triangular({ high: 0.05, low: 0.001, cycle })).message).toContain(
        "even integer >= 2",
      );
      expect(thrown(() => isCycleMidpoint(cycle)).message).toContain("even integer >= 2");
    }
  });

  it("low > high is an error for cyclical and triangular", () => {
    const e = thrown(() => cyclical({ high: 0.01, low: 0.05, cycle: 4 }));
    expect(e.path).toBe("low");
    expect(e.message).toBe(
      "cyclical: low is 0.05; expected a rate <= high = 0.01 (low is the minimum)",
    );
    expect(thrown(() => triangular({ high: 0.01, low: 0.05, cycle: 4 })).path).toBe("low");
  });

  it("NaN, Infinity and negative rates", () => {
    expect(thrown(() => constant(Number.NaN)).message).toBe(
      "constant: lr is NaN; expected a finite learning rate >= 0",
    );
    expect(thrown(() => constant(-0.1)).path).toBe("lr");
    expect(thrown(() => linear({ from: Number.POSITIVE_INFINITY, to: 0, steps: 3 })).path).toBe(
      "from",
    );
    expect(thrown(() => cosine({ from: 0.1, to: Number.NaN, steps: 3 })).path).toBe("to");
    expect(thrown(() => cyclical({ high: Number.NaN, low: 0, cycle: 3 })).path).toBe("high");
    expect(thrown(() => swalr({ from: 0.1, to: -1, annealSteps: 3 })).path).toBe("to");
    expect(thrown(() => exponential({ from: 0.1, decay: 0, steps: 3 })).path).toBe("decay");
  });

  it("negative and non-integer step counts", () => {
    expect(thrown(() => linear({ from: 0.1, to: 0, steps: -1 })).message).toBe(
      "linear: steps is -1; expected an integer >= 0",
    );
    expect(thrown(() => warmup({ steps: 2.5, to: 0.1 })).path).toBe("steps");
    expect(thrown(() => cosine({ from: 0.1, to: 0, steps: -5 })).path).toBe("steps");
    expect(thrown(() => exponential({ from: 0.1, decay: 0.5, steps: 0 })).path).toBe("steps");
    expect(thrown(() => swalr({ from: 0.1, to: 0.05, annealSteps: -1 })).path).toBe("annealSteps");
    expect(thrown(() => values(constant(1), -1)).path).toBe("steps");
    expect(thrown(() => toSvg(constant(1), 0)).path).toBe("steps");
  });

  it("swalr strategy must be cos or linear (JS callers)", () => {
    const bad = { from: 0.1, to: 0.05, annealSteps: 3, strategy: "step" } as unknown as Parameters<
      typeof swalr
    >[0];
    expect(thrown(() => swalr(bad)).message).toBe(
      'swalr: strategy is "step"; expected "cos" or "linear"',
    );
  });

  it("boundaries must strictly increase and match the number of pieces", () => {
    const e = thrown(() => piecewiseConstant({ boundaries: [5, 5], values: [1, 2, 3] }));
    expect(e.path).toBe("boundaries[1]");
    expect(e.message).toContain("> boundaries[0] = 5");
    expect(thrown(() => piecewiseConstant({ boundaries: [0], values: [1, 2] })).path).toBe(
      "boundaries[0]",
    );
    expect(thrown(() => piecewiseConstant({ boundaries: [3], values: [1] })).path).toBe("values");
    expect(thrown(() => piecewiseConstant({ boundaries: [3], values: [1, Number.NaN] })).path).toBe(
      "values[1]",
    );
    expect(thrown(() => join([constant(1)], [3])).path).toBe("schedules");
    expect(thrown(() => join([constant(1), constant(2)], [-2])).path).toBe("boundaries[0]");
  });

  it("swaReference: SWA form needs swaStart, SGD form needs epochs, lrInit > 0", () => {
    const noStart = { lrInit: 0.1, swaLr: 0.05, stepsPerEpoch: 10 } as unknown as Parameters<
      typeof swaReference
    >[0];
    expect(thrown(() => swaReference(noStart)).message).toContain("swaStart is missing");
    const noEpochs = { lrInit: 0.1, stepsPerEpoch: 10 } as unknown as Parameters<
      typeof swaReference
    >[0];
    expect(thrown(() => swaReference(noEpochs)).message).toContain("epochs is missing");
    expect(thrown(() => swaReference({ lrInit: 0, epochs: 10, stepsPerEpoch: 1 })).path).toBe(
      "lrInit",
    );
    expect(thrown(() => swaReference({ lrInit: 0.1, epochs: 10, stepsPerEpoch: 0 })).path).toBe(
      "stepsPerEpoch",
    );
    expect(
      thrown(() => swaReference({ lrInit: 0.1, swaLr: 0.05, swaStart: -1, stepsPerEpoch: 1 })).path,
    ).toBe("swaStart");
  });

  it("schedules reject negative, non-integer and NaN steps", () => {
    const s = cyclical({ high: 0.05, low: 0.001, cycle: 4 });
    for (const step of [-1, 0.5, Number.NaN]) {
      const e = thrown(() => s(step));
      expect(e.path).toBe("step");
      expect(e.message).toContain("0-based iteration");
    }
    expect(thrown(() => isCycleEnd(4)(-1)).path).toBe("step");
    expect(thrown(() => join([constant(1), constant(2)], [3])(-1)).message).toMatch(/^join: step/);
  });
});

describe("every error is the shared Wider shape", () => {
  it("thrown (constructors) and returned (fromSpec) errors are ScheduleErrors of kind config", () => {
    const thrownErrors = [
      thrown(() => cyclical({ high: 0.05, low: 0.001, cycle: 0 })),
      thrown(() => constant(Number.NaN)),
      thrown(() => join([constant(1)], [3])),
      thrown(() => toSvg(constant(1), 0)),
      thrown(() => cyclical({ high: 0.05, low: 0.001, cycle: 4 })(-1)),
    ];
    const specs: unknown[] = [
      null,
      { type: "sawtooth" },
      { type: "cyclical", hihg: 0.05, low: 0.001, cycle: 4 },
      { type: "cyclical", high: "0.05", low: 0.001, cycle: 4 },
      { type: "constant", value: -1 },
      { type: "join", boundaries: [2], schedules: [{ type: "constant", value: 1 }, 7] },
    ];
    const returned = specs.map((s) => {
      const r = fromSpec(s);
      if (!isLeft(r)) throw new Error(`expected a Left for ${JSON.stringify(s)}`);
      // A Left is the plain value, not the thrown Error form.
      expect(r.left).not.toBeInstanceOf(Error);
      return r.left;
    });
    for (const e of [...thrownErrors, ...returned]) {
      expect(isWiderError(e)).toBe(true);
      expect(errorKinds).toContain(e.kind);
      expect(e._tag).toBe("ScheduleError");
      expect(e.kind).toBe("config");
      expect(typeof e.path).toBe("string");
    }
  });
});
