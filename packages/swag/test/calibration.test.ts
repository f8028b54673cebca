import * as tf from "@tensorflow/tfjs";
import { expectedCalibrationError } from "@wider/ensembling";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { calibrationReport, reliabilityDiagramSvg } from "../src/index.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});

describe("calibrationReport and reliabilityDiagramSvg", () => {
  it("metrics and bins computed by hand for four predictions", () => {
    // Confidences 0.9 (right), 0.8 (wrong), 0.6 (right), 0.55 (right); 2 bins: (0, .5], (.5, 1].
    const probs = { data: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.45, 0.55], numClasses: 2 };
    const labels = [0, 0, 0, 1];
    const r = calibrationReport(probs, labels, { bins: 2 });
    if (E.isLeft(r)) throw new Error(r.left.message);
    const { metrics, reliability } = r.right;
    expect(metrics.accuracy).toBe(0.75);
    expect(metrics.nll).toBeCloseTo(
      -(Math.log(0.9) + Math.log(0.2) + Math.log(0.6) + Math.log(0.55)) / 4,
      12,
    );
    expect(metrics.brier).toBeCloseTo((0.02 + 1.28 + 0.32 + 0.405) / 4, 12);
    expect(reliability[0]!.count).toBe(0);
    expect(reliability[1]).toMatchObject({ count: 4, accuracy: 0.75 });
    expect(reliability[1]!.confidence).toBeCloseTo((0.9 + 0.8 + 0.6 + 0.55) / 4, 12);
    expect(metrics.ece).toBeCloseTo(Math.abs(0.75 - 0.7125), 12);
    expect(metrics.ece).toBe(
      E.getOrElse(() => Number.NaN)(expectedCalibrationError(probs, labels, { bins: 2 })),
    );
    const bad = calibrationReport(probs, [0, 0, 0], { bins: 2 });
    expect(E.isLeft(bad) && bad.left.message).toMatch(/labels has 3 entries but there are 4/);
  });

  it("the SVG has one bar and one confidence tick per non-empty bin, at the right heights, and escapes the title", () => {
    const bins = [
      { lower: 0, upper: 0.5, count: 0, accuracy: 0, confidence: 0 },
      { lower: 0.5, upper: 1, count: 4, accuracy: 0.75, confidence: 0.7125 },
    ];
    const svg = reliabilityDiagramSvg(bins, { size: 200, title: "a < b & c" });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/class="bin"/g)?.length).toBe(1);
    expect(svg.match(/class="confidence"/g)?.length).toBe(1);
    expect(svg).toContain('height="150"'); // accuracy 0.75 of 200 px
    expect(svg).toContain("a &#60; b &#38; c");
    expect(svg).not.toContain("a < b");
  });
});
