import * as tf from "@tensorflow/tfjs-core";
import { branch, disposeOptState, disposeTrainingState, initLoop, sgd } from "@wider/training";
import { disposeWeights, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { aggregate, type SeedReport } from "../src/aggregate.js";
import { chooseBackend } from "../src/backend.js";
import { type Config, defaultConfig } from "../src/config.js";
import { resolveConfig } from "../src/configDecode.js";
import { loadAppDataset } from "../src/dataset.js";
import { buildAppModel } from "../src/models.js";
import { makeProgress } from "../src/progress.js";
import { makeSchedules } from "../src/schedules.js";
import {
  analyseRate,
  proposalStep,
  rateSchedule,
  runningAverages,
  spread,
} from "../src/trajectory.js";
import {
  aggregateTrajectory,
  findingLines,
  type TrajectoryFindings,
  trajectoryFindings,
} from "../src/trajectoryFindings.js";
import { fitMargin, planeAnchors } from "../src/trajectoryPlane.js";

/** Every value of a weight set, keys sorted, as float64. */
const flat = (w: Weights, keys: readonly string[]): Float64Array =>
  Float64Array.from(keys.flatMap((k) => Array.from((w[k] as tf.Tensor).dataSync())));

const tiny = (): Config => {
  const c = resolveConfig(defaultConfig(), {
    out: "unused",
    trainSubset: 128 as never,
    testSubset: 100 as never,
    batchSize: 32 as never,
    epochs: 4 as never,
    swaStart: 1 as never,
    backend: "cpu",
  });
  if (E.isLeft(c)) throw c.left;
  return c.right;
};

describe("trajectory analysis of one rate", () => {
  it("collects a proposal per cycle; its running averages are the hand means of the proposals; no leak", async () => {
    await chooseBackend("cpu");
    const config = tiny();
    const data = await loadAppDataset(config);
    const model = buildAppModel("mlp", { imageShape: data.imageShape, classes: 10 }, 0);
    const schedules = makeSchedules(config, 4); // 128 / 32 steps per epoch
    const init = initLoop(model, sgd({ momentum: 0.9 }));
    const start = branch(model, init);
    disposeOptState(init.opt);
    const progress = { ...makeProgress(process.stdout, true), log: () => {} };
    const idx = Int32Array.from({ length: 100 }, (_, i) => i);
    const ctx = {
      config,
      data,
      model,
      schedules,
      pretrained: start,
      progress,
      signal: { aborted: false },
    };
    const before = tf.memory().numTensors;
    const { run, proposals, average } = await analyseRate(ctx, "cyclical", idx, null);
    try {
      // From step 0 to 16: proposals after steps 7, 11, 15 (each cycle's end after swaStart).
      expect(run.steps).toEqual([7, 11, 15]);
      expect(run.epochs).toEqual([2, 3, 4]);
      expect(proposals).toHaveLength(3);
      expect(run.proposalErrors).toHaveLength(3);
      expect(run.swaErrors).toHaveLength(3);
      expect(run.swaErrors[0]).toBe(run.proposalErrors[0]); // the first average is the first proposal
      const keys = Object.keys(average).sort();
      const ws = proposals.map((w) => flat(w, keys));
      const hand = (k: number): Float64Array => {
        const out = new Float64Array(ws[0]?.length ?? 0);
        for (const w of ws.slice(0, k))
          for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (w[i] as number) / k;
        return out;
      };
      // The analysis's final average against the float64 hand mean (float32 running mean: 1e-6).
      const got = flat(average, keys);
      const want = hand(3);
      let worstFinal = 0;
      for (let i = 0; i < want.length; i++)
        worstFinal = Math.max(
          worstFinal,
          Math.abs((got[i] as number) - (want[i] as number)) / (1 + Math.abs(want[i] as number)),
        );
      expect(worstFinal).toBeLessThan(1e-6);
      // Each running average (the one the analysis scores after each collection) likewise.
      const seen: Float64Array[] = [];
      const last = await runningAverages(proposals, async (_k, m) => {
        seen.push(flat(m, keys));
      });
      disposeWeights(last);
      for (const [k, s] of seen.entries()) {
        const h = hand(k + 1);
        let worst = 0;
        for (let i = 0; i < h.length; i++)
          worst = Math.max(worst, Math.abs((s[i] as number) - (h[i] as number)));
        expect(worst).toBeLessThan(1e-6);
      }
      // Spread oracle: two sets lie |a - b| / 2 from their mean.
      const tk = model.trainableWeights.map((v) => v.originalName);
      const a = flat(proposals[0] as Weights, [...tk].sort());
      const b = flat(proposals[2] as Weights, [...tk].sort());
      const dist = Math.sqrt(a.reduce((s, x, i) => s + (x - (b[i] as number)) ** 2, 0));
      expect(spread([proposals[0] as Weights, proposals[2] as Weights], tk)).toBeCloseTo(
        dist / 2,
        9,
      );
      expect(run.spread).toBeGreaterThan(0);
    } finally {
      for (const w of proposals) disposeWeights(w);
      disposeWeights(average);
    }
    expect(tf.memory().numTensors).toBe(before);
    disposeTrainingState(start);
    model.dispose();
  });

  it("uses the sawtooth from the SGD rate at swaStart to swaLr, and the constant swaLr", () => {
    const config = tiny();
    const s = makeSchedules(config, 4);
    const cyc = rateSchedule(config, s, "cyclical");
    const con = rateSchedule(config, s, "constant");
    const high = s.sgd(s.swaStartStep);
    expect(cyc(s.swaStartStep + 3)).toBeCloseTo(config.swaLr, 12); // each cycle's end: swaLr
    expect(cyc(s.swaStartStep)).toBeCloseTo(high - (high - config.swaLr) / 4, 12);
    expect(cyc(s.swaStartStep + 4)).toBeCloseTo(cyc(s.swaStartStep), 12);
    for (let k = s.swaStartStep; k < s.budgetStep; k++) expect(con(k)).toBe(config.swaLr);
    const take = proposalStep(s);
    expect([...Array(s.budgetStep).keys()].filter(take)).toEqual([7, 11, 15]);
  });
});

describe("trajectory plane and findings", () => {
  it("anchors first, middle and last proposals; the pretrained point with two; none with one", () => {
    expect(planeAnchors(5)?.picks).toEqual([0, 2, 4]);
    expect(planeAnchors(4)?.picks).toEqual([0, 1, 3]);
    expect(planeAnchors(2)?.picks).toEqual([-1, 0, 1]);
    expect(planeAnchors(1)).toBeNull();
  });

  it("widens the grid margin to hold every point", () => {
    const anchors = [
      [0, 0],
      [1, 0],
      [0.5, 1],
    ] as const;
    expect(fitMargin(anchors, [{ x: 0.5, y: 0.5 }])).toBe(0.2);
    expect(fitMargin(anchors, [{ x: 1.5, y: 0.5 }])).toBeCloseTo(0.525, 12);
    expect(fitMargin(anchors, [{ x: 0, y: -0.8 }])).toBeCloseTo(0.84, 12);
    expect(fitMargin(anchors, [{ x: 100, y: 0 }])).toBe(2);
  });

  const runOf = (
    rate: "cyclical" | "constant",
    props: number[],
    swas: number[],
    spread: number,
  ) => ({
    rate,
    lrHigh: 0.05,
    lrLow: 0.01,
    steps: props.map((_, i) => i),
    epochs: props.map((_, i) => i + 1),
    proposalErrors: props,
    swaErrors: swas,
    spread,
    seconds: 0,
  });

  it("states each finding from the numbers", () => {
    const f = trajectoryFindings(
      runOf("cyclical", [0.1, 0.12], [0.1, 0.09], 1),
      runOf("constant", [0.2, 0.14], [0.2, 0.15], 3),
    );
    expect(f.cyclicalBetter).toEqual({ holds: true, cyclical: 0.11, constant: 0.17 });
    expect(f.averageBetter.holds).toBe(false); // constant: 0.15 is not below its best 0.14
    expect(f.averageBetter.cyclical).toEqual({ swa: 0.09, bestProposal: 0.1 });
    expect(f.constantFarther).toEqual({ holds: true, cyclical: 1, constant: 3 });
    const lines = findingLines(f);
    expect(lines[0]).toMatch(/11\.00% \(cyclical\) vs 17\.00% \(constant\): holds here/);
    expect(lines[1]).toMatch(/does not hold here/);
    expect(lines[2]).toMatch(/3\.000 \(constant\) vs 1\.000 \(cyclical\): holds here/);
    const one = trajectoryFindings(
      runOf("cyclical", [0.1], [0.1], 0),
      runOf("constant", [0.2], [0.2], 0),
    );
    expect(one.averageBetter.holds).toBeNull();
    expect(findingLines(one)[2]).toMatch(/not measurable here/);
  });

  it("aggregates over seeds: counts where each holds and the means; old reports still decode", () => {
    const f = (c: number, k: number, holds: boolean): TrajectoryFindings => ({
      cyclicalBetter: { holds: c < k, cyclical: c, constant: k },
      averageBetter: {
        holds,
        cyclical: { swa: c - 0.01, bestProposal: c },
        constant: { swa: k, bestProposal: k },
      },
      constantFarther: { holds: null, cyclical: 1, constant: 1 },
    });
    const a = aggregateTrajectory([f(0.1, 0.2, true), null, f(0.3, 0.2, false)]);
    expect(a?.seeds).toBe(2);
    expect(a?.cyclicalBetter.holdsIn).toBe(1);
    expect(a?.cyclicalBetter.of).toBe(2);
    expect(a?.cyclicalBetter.cyclical.mean).toBeCloseTo(0.2, 12);
    expect(a?.averageBetter.holdsIn).toBe(1);
    expect(a?.constantFarther.of).toBe(0);
    expect(aggregateTrajectory([null])).toBeNull();

    const report = (
      seed: number,
      trajectory?: { findings: TrajectoryFindings } | null,
    ): SeedReport => ({
      tool: "wider",
      config: { seed, dataSeed: 1, out: `seed-${seed}` },
      backend: { name: "cpu" },
      dataset: { name: "mnist", trainUsed: 1, trainTotal: 1, testUsed: 1 },
      model: { name: "mlp", parameters: 1 },
      results: {},
      geometry: { rays: { widthSgd: null, widthSwa: null }, segment: null },
      seconds: {},
      ...(trajectory === undefined ? {} : { trajectory }),
    });
    const old = aggregate([0], ["seed-0"], [report(0)]);
    expect(old.trajectory).toBeNull();
    const agg = aggregate(
      [0, 1],
      ["seed-0", "seed-1"],
      [report(0, { findings: f(0.1, 0.2, true) }), report(1, { findings: f(0.12, 0.2, true) })],
    );
    expect(agg.trajectory?.cyclicalBetter.holdsIn).toBe(2);
    const line = agg.findings.find((l) => l.includes("proposals better under the cyclical rate"));
    expect(line).toMatch(/11\.00% \(cyclical\) vs 20\.00% \(constant\).*holds in 2 of 2 seeds/);
    expect(
      agg.findings.some((l) =>
        /explores farther.*holds in 0 of 0 seeds \(2 with one proposal/.test(l),
      ),
    ).toBe(true);
  });
});
