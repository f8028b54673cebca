import { describe, expect, it } from "vitest";
import {
  constant,
  cosine,
  cyclical,
  exponential,
  join,
  linear,
  piecewiseConstant,
  swalr,
  swaReference,
  triangular,
  values,
  warmup,
} from "../src/index.js";

// Hand-computed values; `close` allows a few ulps of rounding.
const close = (got: readonly number[], want: readonly number[]) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    expect(Math.abs(g - (want[i] as number)), `index ${i}: ${g} vs ${want[i]}`).toBeLessThanOrEqual(
      1e-15,
    );
  });
};

describe("constant", () => {
  it("is the same at every step", () => {
    expect(values(constant(0.05), 4)).toEqual([0.05, 0.05, 0.05, 0.05]);
    expect(constant(0)(10 ** 9)).toBe(0);
  });
});

describe("linear", () => {
  it("ramps from `from` at 0 to `to` at `steps`, then holds", () => {
    close(values(linear({ from: 0.1, to: 0.0, steps: 4 }), 6), [0.1, 0.075, 0.05, 0.025, 0, 0]);
    close(values(linear({ from: 0.01, to: 0.05, steps: 2 }), 4), [0.01, 0.03, 0.05, 0.05]);
  });
  it("with steps = 0 is `to` from step 0", () => {
    expect(values(linear({ from: 0.1, to: 0.02, steps: 0 }), 2)).toEqual([0.02, 0.02]);
  });
});

describe("cosine", () => {
  it("follows to + (from - to)(1 + cos(pi s / steps)) / 2", () => {
    // cos(pi/4) = sqrt(2)/2: 0.1 * (1 + 0.70710678...) / 2 = 0.0853553390593...
    close(values(cosine({ from: 0.1, to: 0, steps: 4 }), 6), [
      0.1,
      0.05 * (1 + Math.SQRT1_2),
      0.05,
      0.05 * (1 - Math.SQRT1_2),
      0,
      0,
    ]);
    expect(cosine({ from: 0.1, to: 0.02, steps: 2 })(1)).toBeCloseTo(0.06, 15);
  });
});

describe("exponential", () => {
  it("multiplies by decay every `steps` steps", () => {
    close(values(exponential({ from: 0.1, decay: 0.5, steps: 2 }), 5), [
      0.1,
      0.1 * Math.SQRT1_2,
      0.05,
      0.05 * Math.SQRT1_2,
      0.025,
    ]);
  });
  it("in stairs with staircase", () => {
    close(
      values(exponential({ from: 0.1, decay: 0.5, steps: 2, staircase: true }), 5),
      [0.1, 0.1, 0.05, 0.05, 0.025],
    );
  });
});

describe("piecewiseConstant", () => {
  it("switches at each boundary (the boundary is the first step of the next value)", () => {
    const s = piecewiseConstant({ boundaries: [2, 4], values: [0.1, 0.01, 0.001] });
    expect(values(s, 6)).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  });
  it("with no boundary is constant", () => {
    expect(values(piecewiseConstant({ boundaries: [], values: [0.3] }), 3)).toEqual([
      0.3, 0.3, 0.3,
    ]);
  });
});

describe("warmup", () => {
  it("rises linearly from 0", () => {
    close(values(warmup({ steps: 4, to: 0.1 }), 6), [0, 0.025, 0.05, 0.075, 0.1, 0.1]);
  });
});

describe("join", () => {
  it("re-bases the step of each piece to its boundary", () => {
    const s = join(
      [warmup({ steps: 2, to: 0.1 }), linear({ from: 0.1, to: 0, steps: 4 }), constant(0.3)],
      [2, 5],
    );
    // steps 0,1: warmup(0), warmup(1); steps 2,3,4: linear(0..2); steps 5..: constant
    close(values(s, 7), [0, 0.05, 0.1, 0.075, 0.05, 0.3, 0.3]);
  });
  it("with one piece is that piece", () => {
    expect(values(join([constant(0.2)], []), 2)).toEqual([0.2, 0.2]);
  });
});

describe("cyclical (SWA paper sawtooth)", () => {
  it("falls to `low` at step c-1 of each cycle", () => {
    // c = 4: t = 1/4, 2/4, 3/4, 1 -> 0.05 - 0.04 t
    close(
      values(cyclical({ high: 0.05, low: 0.01, cycle: 4 }), 9),
      [0.04, 0.03, 0.02, 0.01, 0.04, 0.03, 0.02, 0.01, 0.04],
    );
  });
  it("is `low` at every step when cycle = 1", () => {
    expect(values(cyclical({ high: 0.05, low: 0.01, cycle: 1 }), 3)).toEqual([0.01, 0.01, 0.01]);
  });
  it("matches the paper's 1-based formula with i = s + 1", () => {
    const [a1, a2, c] = [0.05, 0.001, 5];
    const s = cyclical({ high: a1, low: a2, cycle: c });
    for (let i = 1; i <= 12; i++) {
      const t = (((i - 1) % c) + 1) / c;
      expect(s(i - 1)).toBe((1 - t) * a1 + t * a2);
    }
  });
});

describe("triangular (FGE)", () => {
  it("goes high -> low (at step c/2) -> high", () => {
    close(
      values(triangular({ high: 0.05, low: 0.01, cycle: 4 }), 9),
      [0.05, 0.03, 0.01, 0.03, 0.05, 0.03, 0.01, 0.03, 0.05],
    );
    close(
      values(triangular({ high: 0.09, low: 0.01, cycle: 8 }), 8),
      [0.09, 0.07, 0.05, 0.03, 0.01, 0.03, 0.05, 0.07],
    );
  });
  it("matches FGE's per-iteration formula with epochs and iterations", () => {
    const [a1, a2, cycleEpochs, ipe] = [0.05, 1e-4, 4, 3];
    const s = triangular({ high: a1, low: a2, cycle: cycleEpochs * ipe });
    for (let epoch = 0; epoch < 9; epoch++)
      for (let iter = 0; iter < ipe; iter++) {
        const t = ((epoch % cycleEpochs) + iter / ipe) / cycleEpochs;
        const want = t < 0.5 ? a1 * (1 - 2 * t) + a2 * 2 * t : a1 * (2 * t - 1) + a2 * (2 - 2 * t);
        expect(Math.abs(s(epoch * ipe + iter) - want)).toBeLessThanOrEqual(1e-15);
      }
  });
});

describe("swalr", () => {
  it("keeps `from` at step 0 and reaches `to` at annealSteps", () => {
    close(
      values(swalr({ from: 0.1, to: 0.05, annealSteps: 2, strategy: "linear" }), 4),
      [0.1, 0.075, 0.05, 0.05],
    );
    // cos, E = 2: a_1 = (1 - cos(pi/2))/2 = 1/2
    close(values(swalr({ from: 0.1, to: 0.05, annealSteps: 2 }), 4), [0.1, 0.075, 0.05, 0.05]);
    // cos, E = 4: a_1 = (1 - sqrt(2)/2)/2
    expect(swalr({ from: 0.1, to: 0, annealSteps: 4 })(1)).toBeCloseTo(
      0.1 * (1 - (1 - Math.SQRT1_2) / 2),
      15,
    );
  });
  it("with annealSteps = 0 is `to` from step 0 (as PyTorch's constructor sets it)", () => {
    expect(values(swalr({ from: 0.1, to: 0.05, annealSteps: 0 }), 3)).toEqual([0.05, 0.05, 0.05]);
  });
});

describe("swaReference (authors' schedule)", () => {
  it("SWA form: 1 until t = 0.5, linear to swaLr/lrInit at t = 0.9, constant within an epoch", () => {
    const s = swaReference({ lrInit: 0.1, swaLr: 0.05, swaStart: 10, stepsPerEpoch: 2 });
    // epochs 0..5: t <= 0.5 -> 0.1; epoch 6: 1 - 0.5 * 0.1/0.4 = 0.875; 7: 0.75; 8: 0.625;
    // 9: t = 0.9 -> 0.5; 10..: 0.5 (factor r)
    const perEpoch = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0875, 0.075, 0.0625, 0.05, 0.05, 0.05];
    close(
      values(s, 24),
      perEpoch.flatMap((v) => [v, v]),
    );
  });
  it("SGD form: r = 0.01 over `epochs`", () => {
    const s = swaReference({ lrInit: 0.1, epochs: 10, stepsPerEpoch: 1 });
    close(values(s, 11), [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.07525, 0.0505, 0.02575, 0.001, 0.001]);
  });
});
