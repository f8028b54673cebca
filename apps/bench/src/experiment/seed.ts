/**
 * One seed of the experiment: shared SGD pretraining to the branch point, then three branches
 * from the same weights and momentum — SGD continued to B, SWA to 1.25 B (its mean at B kept as
 * "SWA 1 B"), FGE to B — evaluated on the test set, and the width of the SGD and SWA solutions
 * along random rays (plus the segment between them).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { atCycleEnds, disposeState, swa } from "@wider/averaging";
import {
  collectAt,
  compareEnsembleToSwa,
  disposeSnapshots,
  ensembleProbabilities,
  type PredictionMetrics,
  predictionMetrics,
  predictProbabilities,
} from "@wider/ensembling";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  type LabelledSet,
  linspace,
  type PlanResults,
  randomDirection,
  rayFrom,
  segment,
  summarizeWidths,
  type WidthSummary,
  widthsOfRays,
} from "@wider/geometry";
import {
  constant,
  isCycleMidpoint,
  join,
  linear,
  type Schedule,
  swalr,
  triangular,
} from "@wider/schedules";
import { assignToModel, clone, disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { buildModel } from "../models.js";
import { type Budget, budgetOf, type ExperimentConfig } from "./config.js";
import { batchSource, type ExperimentData } from "./data.js";
import { cloneSgd, disposeSgd, initSgd, type SgdState, sgdStep } from "./sgd.js";

/** Test metrics of one method on one seed. */
export type MethodMetrics = PredictionMetrics;

/** Width of one solution: the per-ray widths (null: not exceeded within range) and their summary. */
export interface SolutionWidth {
  readonly widths: readonly (number | null)[];
  readonly summary: WidthSummary;
}

/** A logged training point, for curves. */
export interface CurvePoint {
  readonly phase: "pretrain" | "sgd" | "swa" | "fge";
  readonly step: number;
  readonly lr: number;
  readonly loss: number;
}

/** Everything one seed produces. */
export interface SeedResult {
  readonly seed: number;
  readonly budget: Budget;
  readonly results: {
    readonly sgd: MethodMetrics;
    readonly swa: MethodMetrics;
    readonly swaExtended: MethodMetrics;
    readonly fge: MethodMetrics;
  };
  readonly swaAveraged: { readonly budget: number; readonly extended: number };
  readonly fgeMembers: number;
  /**
   * The paper's section 3.5 on the FGE members and their weight mean (test images of the width
   * set): TV distance ensemble vs mean-weights model, against the members' pairwise TV distance.
   */
  readonly section35: {
    readonly ensembleSwaTv: number;
    readonly memberPairwiseTv: number;
    readonly gapToSpreadRatio: number | null;
    readonly ensembleSwaAgreement: number;
  } | null;
  /** Distance between the SGD and SWA (1 B) solutions. */
  readonly sgdSwaDistance: number;
  readonly width: { readonly sgd: SolutionWidth; readonly swa: SolutionWidth };
  readonly rays: { readonly sgd: readonly PlanResults[]; readonly swa: readonly PlanResults[] };
  readonly segment: PlanResults | null;
  readonly curve: readonly CurvePoint[];
  readonly trainingSamplesPerSecond: number;
  readonly seconds: Readonly<Record<string, number>>;
}

/** The learning-rate schedules of the run (SWA and FGE in steps from the branch point). */
export const schedulesOf = (
  config: ExperimentConfig,
  b: Budget,
): { sgd: Schedule; swa: Schedule; fge: Schedule } => {
  const lrEnd = 0.01 * config.lrInit;
  const half = Math.round(0.5 * b.budget);
  const late = Math.round(0.9 * b.budget);
  // The authors' SGD schedule (constant, linear decay from 0.5 B to 0.9 B down to 1 %, constant),
  // applied per step rather than per epoch.
  const sgd = join(
    [
      constant(config.lrInit),
      linear({ from: config.lrInit, to: lrEnd, steps: late - half }),
      constant(lrEnd),
    ],
    [half, late],
  );
  return {
    sgd,
    swa: swalr({ from: sgd(b.start), to: config.swaLr, annealSteps: config.swaAnnealSteps }),
    fge: triangular({ high: config.fgeLrMax, low: config.fgeLrMin, cycle: config.fgeCycle }),
  };
};

const metricsOf = (probs: tf.Tensor2D, labels: Int32Array): MethodMetrics => {
  const m = predictionMetrics(probs, labels);
  if (E.isLeft(m)) throw new Error(`metrics: ${m.left.message}`);
  return m.right;
};

const evaluateWeights = (
  model: tf.LayersModel,
  w: Weights,
  data: ExperimentData,
): MethodMetrics => {
  const a = assignToModel(model, w);
  if (E.isLeft(a)) throw new Error(a.left.message);
  const p = predictProbabilities(model, data.test.x, { logits: true, batchSize: 500 });
  if (E.isLeft(p)) throw new Error(p.left.message);
  try {
    return metricsOf(p.right, data.test.labels);
  } finally {
    p.right.dispose();
  }
};

const fmtTime = (s: number): string =>
  s >= 60
    ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
    : `${s.toFixed(0)}s`;

/**
 * Runs one seed on the active backend; `log` gets progress lines. Leaves no tensor behind
 * (besides the model's, which it disposes).
 */
export const runSeed = async (
  config: ExperimentConfig,
  data: ExperimentData,
  seed: number,
  log: (line: string) => void,
): Promise<SeedResult> => {
  const t0 = performance.now();
  const b = budgetOf(config, data.train.count);
  const lr = schedulesOf(config, b);
  const batchAt = batchSource(data, config.batchSize, seed);
  const model = buildModel("cnn", seed);
  const hp = { momentum: config.momentum, weightDecay: config.weightDecay };
  const curve: CurvePoint[] = [];
  const seconds: Record<string, number> = {};
  const totalSteps = b.start + 2 * (b.budget - b.start) + (b.extendedEnd - b.start);
  let stepsDone = 0;
  let trainMs = 0;

  /** Steps [from, to) with `lrAt(step - from)` (phase-relative), `after(step - from)` after each. */
  const phase = async (
    name: CurvePoint["phase"],
    state: SgdState,
    from: number,
    to: number,
    lrAt: (k: number) => number,
    after?: (k: number) => Promise<void> | void,
  ): Promise<SgdState> => {
    const started = performance.now();
    for (let step = from; step < to; step++) {
      const k = step - from;
      const rate = lrAt(k);
      const { xs, ys } = batchAt(step);
      const r = sgdStep(model, state, xs, ys, { ...hp, lr: rate });
      tf.dispose([xs, ys]);
      state = r.state;
      stepsDone++;
      if (k % config.logEvery === 0 || step === to - 1) {
        const loss = (await r.loss.data())[0]!;
        curve.push({ phase: name, step, lr: rate, loss });
        const elapsed = (trainMs + performance.now() - started) / 1000;
        const rateSps = (stepsDone * config.batchSize) / Math.max(elapsed, 1e-9);
        const eta = ((totalSteps - stepsDone) * config.batchSize) / rateSps;
        log(
          `${name.padEnd(8)} step ${String(step + 1).padStart(5)}/${to} loss ${loss.toFixed(4)} lr ${rate.toPrecision(3)} ${rateSps.toFixed(0)} samples/s, training left ~${fmtTime(eta)}`,
        );
      }
      r.loss.dispose();
      if (after !== undefined) await after(k);
    }
    const ms = performance.now() - started;
    trainMs += ms;
    seconds[name] = (seconds[name] ?? 0) + ms / 1000;
    return state;
  };

  log(
    `budget B = ${b.budget} steps (${config.epochs} epochs x ${b.stepsPerEpoch} of ${config.batchSize}); branches from step ${b.start}; SWA to ${b.extendedEnd}`,
  );
  // Shared pretraining.
  let state = await phase("pretrain", initSgd(model), 0, b.start, (k) => lr.sgd(k));
  const pretrained = fromModel(model);
  const pretrainedSgd = cloneSgd(state);

  // (a) SGD continued to B.
  state = await phase("sgd", state, b.start, b.budget, (k) => lr.sgd(b.start + k));
  disposeSgd(state);
  const wSgd = fromModel(model);

  // (b) SWA from the branch point to 1.25 B, averaging at the end of every `swaEvery` steps.
  assignToModel(model, pretrained);
  const averager = swa();
  let avg = averager.init();
  let swaAtBudget: Weights | null = null;
  let swaAtBudgetN = 0;
  const averageNow = atCycleEnds(config.swaEvery);
  state = await phase("swa", cloneSgd(pretrainedSgd), b.start, b.extendedEnd, lr.swa, (k) => {
    if (averageNow(k)) {
      const w = fromModel(model);
      avg = averager.update(avg, w);
      disposeWeights(w);
    }
    if (b.start + k === b.budget - 1 && avg.mean !== null) {
      swaAtBudget = clone(avg.mean);
      swaAtBudgetN = avg.n;
    }
  });
  disposeSgd(state);
  if (avg.mean === null || swaAtBudget === null) throw new Error("SWA collected no model");
  const wSwa: Weights = swaAtBudget;
  const wSwaExtended = clone(avg.mean);
  const swaExtendedN = avg.n;
  disposeState(avg);

  // (c) FGE from the branch point to B, a snapshot at each cycle's midpoint.
  assignToModel(model, pretrained);
  const collector = collectAt(isCycleMidpoint(config.fgeCycle), {
    maxCount: 1000,
    store: "memory",
  });
  if (E.isLeft(collector)) throw new Error(collector.left.message);
  let fge = collector.right.init();
  state = await phase("fge", cloneSgd(pretrainedSgd), b.start, b.budget, lr.fge, async (k) => {
    if (collector.right.policy(k)) {
      const w = fromModel(model);
      const next = await collector.right.update(fge, k, w);
      disposeWeights(w);
      if (E.isLeft(next)) throw new Error(next.left.message);
      fge = next.right;
    }
  });
  disposeSgd(state);
  disposeSgd(pretrainedSgd);
  disposeWeights(pretrained);

  // Evaluation on the test set.
  log("evaluating SGD, SWA (1 B, extended) and FGE on the test set");
  const te = performance.now();
  const sgdM = evaluateWeights(model, wSgd, data);
  const swaM = evaluateWeights(model, wSwa, data);
  const swaExtM = evaluateWeights(model, wSwaExtended, data);
  const fp = await ensembleProbabilities(
    model,
    fge,
    { test: data.test.x },
    { logits: true, batchSize: 500 },
  );
  if (E.isLeft(fp)) throw new Error(fp.left.message);
  const fgeM = metricsOf(fp.right.test, data.test.labels);
  fp.right.test.dispose();
  const fgeMembers = fge.snapshots.length;
  let section35: SeedResult["section35"] = null;
  if (fgeMembers >= 2) {
    const cmp = await compareEnsembleToSwa(model, fge, data.widthTest.x, {
      logits: true,
      batchSize: 500,
    });
    if (E.isLeft(cmp)) throw new Error(cmp.left.message);
    section35 = {
      ensembleSwaTv: cmp.right.ensembleSwaTv,
      memberPairwiseTv: cmp.right.memberPairwiseTv,
      gapToSpreadRatio: cmp.right.gapToSpreadRatio,
      ensembleSwaAgreement: cmp.right.ensembleSwaAgreement,
    };
  }
  await disposeSnapshots(fge);
  seconds.evaluation = (performance.now() - te) / 1000;
  log(
    `test accuracy: SGD ${(100 * sgdM.accuracy).toFixed(2)}%, SWA ${(100 * swaM.accuracy).toFixed(2)}%, SWA ${config.swaExtendedBudget}B ${(100 * swaExtM.accuracy).toFixed(2)}%, FGE ${(100 * fgeM.accuracy).toFixed(2)}% (${fgeMembers} members)`,
  );

  // Geometry: rays from SGD and SWA along the same random directions; the segment between them.
  const tg = performance.now();
  const train: LabelledSet = { x: data.widthTrain.x, y: data.widthTrain.y };
  const evaluateTrain = evaluateClassifier({ train }, { fromLogits: true, batchSize: 500 });
  const raysOf = async (center: Weights, label: string): Promise<PlanResults[]> => {
    const out: PlanResults[] = [];
    for (let r = 0; r < config.rays; r++) {
      const d = randomDirection(center, 1000 * seed + r);
      const plan = rayFrom(center, d, config.rayDistances);
      disposeWeights(d);
      if (E.isLeft(plan)) throw new Error(plan.left.message);
      const res = await evaluatePlan(plan.right, { model, evaluate: evaluateTrain });
      disposePlan(plan.right);
      if (E.isLeft(res)) throw new Error(res.left.message);
      out.push(res.right);
      log(`width: ${label} ray ${r + 1}/${config.rays} done`);
    }
    return out;
  };
  const widthOf = (rays: readonly PlanResults[]): SolutionWidth => {
    const w = widthsOfRays(rays, {
      metric: "trainLoss",
      delta: config.widthDelta,
      sides: "positive",
    });
    if (E.isLeft(w)) throw new Error(w.left.message);
    return { widths: w.right, summary: summarizeWidths(w.right) };
  };
  const raysSgd = await raysOf(wSgd, "SGD");
  const raysSwa = await raysOf(wSwa, "SWA");
  let seg: PlanResults | null = null;
  if (config.segmentPoints > 0) {
    const plan = segment(wSwa, wSgd, linspace(-0.5, 1.5, config.segmentPoints));
    if (E.isLeft(plan)) throw new Error(plan.left.message);
    const res = await evaluatePlan(plan.right, {
      model,
      evaluate: evaluateClassifier(
        { train, test: { x: data.widthTest.x, y: data.widthTest.y } },
        { fromLogits: true, batchSize: 500 },
      ),
    });
    disposePlan(plan.right);
    if (E.isLeft(res)) throw new Error(res.left.message);
    seg = res.right;
  }
  const distance = tf.tidy(() =>
    Math.sqrt(
      Object.keys(wSgd).reduce(
        (s, k) => s + tf.sum(tf.square(tf.sub(wSgd[k]!, wSwa[k]!))).dataSync()[0]!,
        0,
      ),
    ),
  );
  seconds.geometry = (performance.now() - tg) / 1000;
  const width = { sgd: widthOf(raysSgd), swa: widthOf(raysSwa) };
  log(
    `width (train loss +${config.widthDelta}): median SGD ${width.sgd.summary.median?.toFixed(2) ?? `> ${config.rayDistances.at(-1)}`}, SWA ${width.swa.summary.median?.toFixed(2) ?? `> ${config.rayDistances.at(-1)}`}`,
  );
  disposeWeights(wSgd);
  disposeWeights(wSwa);
  disposeWeights(wSwaExtended);
  model.dispose();
  seconds.total = (performance.now() - t0) / 1000;
  return {
    seed,
    budget: b,
    results: { sgd: sgdM, swa: swaM, swaExtended: swaExtM, fge: fgeM },
    swaAveraged: { budget: swaAtBudgetN, extended: swaExtendedN },
    fgeMembers,
    section35,
    sgdSwaDistance: distance,
    width,
    rays: { sgd: raysSgd, swa: raysSwa },
    segment: seg,
    curve,
    trainingSamplesPerSecond: (stepsDone * config.batchSize) / (trainMs / 1000),
    seconds,
  };
};
