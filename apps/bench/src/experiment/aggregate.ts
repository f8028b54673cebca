/**
 * Across seeds: mean ± sample standard deviation of every figure, the Markdown tables, and the
 * findings stated from the numbers (what reproduces the paper and what does not).
 *
 * @module
 */
import type { Budget, ExperimentConfig } from "./config.js";
import type { MethodMetrics, SeedResult } from "./seed.js";

/** Mean and sample standard deviation (n - 1; 0 for one value) of the finite values. */
export interface Summary {
  readonly mean: number | null;
  readonly std: number | null;
  readonly values: readonly (number | null)[];
}

/** Summarises values; non-finite and null entries are kept in `values` but left out of the moments. */
export const summarize = (values: readonly (number | null)[]): Summary => {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length === 0) return { mean: null, std: null, values };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std =
    xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, std, values };
};

/** The compared methods, in table order. */
export const methods = [
  { key: "sgd", label: "SGD", budget: 1 },
  { key: "swa", label: "SWA", budget: 1 },
  { key: "swaExtended", label: "SWA", budget: 0 },
  { key: "fge", label: "FGE", budget: 1 },
] as const;

/** One method across seeds. */
export interface MethodSummary {
  readonly key: (typeof methods)[number]["key"];
  readonly label: string;
  readonly budget: number;
  readonly accuracy: Summary;
  readonly nll: Summary;
  readonly ece: Summary;
  readonly brier: Summary;
}

/** The experiment's output (`docs/fashion-mnist.json`). */
export interface ExperimentReport {
  readonly format: "wider-experiment";
  readonly version: 1;
  readonly createdAt: string;
  readonly command: string;
  readonly config: ExperimentConfig;
  readonly budget: Budget;
  readonly dataset: {
    readonly name: string;
    readonly dir: string;
    readonly trainUsed: number;
    readonly trainTotal: number;
    readonly testUsed: number;
  };
  readonly backend: string;
  readonly methods: readonly MethodSummary[];
  readonly width: {
    readonly sgd: Summary;
    readonly swa: Summary;
    readonly censoredRays: { readonly sgd: number; readonly swa: number };
  };
  readonly sgdSwaDistance: Summary;
  readonly section35: { readonly ensembleSwaTv: Summary; readonly memberPairwiseTv: Summary };
  readonly swaAveraged: { readonly budget: Summary; readonly extended: Summary };
  readonly fgeMembers: Summary;
  readonly trainingSamplesPerSecond: Summary;
  readonly findings: readonly string[];
  readonly seeds: readonly SeedResult[];
  readonly seconds: number;
}

const metric = (seeds: readonly SeedResult[], key: MethodSummary["key"], m: keyof MethodMetrics) =>
  summarize(seeds.map((s) => s.results[key][m]));

/** Builds the report's summaries and findings from the seeds' results. */
export const aggregate = (
  config: ExperimentConfig,
  seeds: readonly SeedResult[],
  meta: Pick<ExperimentReport, "command" | "dataset" | "backend" | "seconds">,
): ExperimentReport => {
  const first = seeds[0];
  if (first === undefined) throw new Error("aggregate: no seed results");
  const summaries: MethodSummary[] = methods.map((m) => ({
    key: m.key,
    label: m.label,
    budget: m.key === "swaExtended" ? config.swaExtendedBudget : m.budget,
    accuracy: metric(seeds, m.key, "accuracy"),
    nll: metric(seeds, m.key, "nll"),
    ece: metric(seeds, m.key, "ece"),
    brier: metric(seeds, m.key, "brier"),
  }));
  const width = {
    sgd: summarize(seeds.map((s) => s.width.sgd.summary.median)),
    swa: summarize(seeds.map((s) => s.width.swa.summary.median)),
    censoredRays: {
      sgd: seeds.reduce((n, s) => n + s.width.sgd.summary.censored, 0),
      swa: seeds.reduce((n, s) => n + s.width.swa.summary.censored, 0),
    },
  };
  const report: Omit<ExperimentReport, "findings"> = {
    format: "wider-experiment",
    version: 1,
    createdAt: new Date().toISOString(),
    config,
    budget: first.budget,
    methods: summaries,
    width,
    sgdSwaDistance: summarize(seeds.map((s) => s.sgdSwaDistance)),
    section35: {
      ensembleSwaTv: summarize(seeds.map((s) => s.section35?.ensembleSwaTv ?? null)),
      memberPairwiseTv: summarize(seeds.map((s) => s.section35?.memberPairwiseTv ?? null)),
    },
    swaAveraged: {
      budget: summarize(seeds.map((s) => s.swaAveraged.budget)),
      extended: summarize(seeds.map((s) => s.swaAveraged.extended)),
    },
    fgeMembers: summarize(seeds.map((s) => s.fgeMembers)),
    trainingSamplesPerSecond: summarize(seeds.map((s) => s.trainingSamplesPerSecond)),
    seeds,
    ...meta,
  };
  return { ...report, findings: findings(report) };
};

const pct = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(2)}`;

/** Plain statements comparing the methods, each computed from the per-seed numbers. */
const findings = (r: Omit<ExperimentReport, "findings">): string[] => {
  const acc = (key: MethodSummary["key"]) => r.seeds.map((s) => s.results[key].accuracy);
  const nll = (key: MethodSummary["key"]) => r.seeds.map((s) => s.results[key].nll);
  const n = r.seeds.length;
  const compare = (
    a: MethodSummary["key"],
    b: MethodSummary["key"],
    la: string,
    lb: string,
    claim: string,
  ): string[] => {
    const da = acc(a).map((x, i) => x - acc(b)[i]!);
    const dn = nll(a).map((x, i) => x - nll(b)[i]!);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const winsA = da.filter((d) => d > 0).length;
    const winsN = dn.filter((d) => d < 0).length;
    const verdict =
      mean(da) > 0 && winsA === n
        ? "reproduces"
        : mean(da) > 0
          ? "reproduces on average only"
          : "does NOT reproduce";
    return [
      `${la} vs ${lb}: test accuracy ${pct(mean(da))} points on average (${la} higher in ${winsA} of ${n} seeds), NLL ${mean(dn) >= 0 ? "+" : ""}${mean(dn).toFixed(4)} (${la} lower in ${winsN} of ${n}). Paper's claim "${claim}": ${verdict} here.`,
    ];
  };
  const out = [
    ...compare("swa", "sgd", "SWA (1 B)", "SGD (1 B)", "SWA beats SGD at equal budget"),
    ...compare(
      "swaExtended",
      "swa",
      `SWA (${r.config.swaExtendedBudget} B)`,
      "SWA (1 B)",
      "a longer SWA run helps further",
    ),
  ];
  const dFge = acc("swa").map((x, i) => x - acc("fge")[i]!);
  const mFge = dFge.reduce((s, x) => s + x, 0) / n;
  out.push(
    `SWA (1 B) vs FGE (1 B, ${r.fgeMembers.mean?.toFixed(0)} members): accuracy ${pct(mFge)} points on average. Paper's claim "SWA approaches FGE with one model": ${Math.abs(mFge) <= 0.003 || mFge > 0 ? "reproduces" : "does NOT reproduce"} here (within 0.3 points or better).`,
  );
  const gap = r.section35.ensembleSwaTv.mean;
  const spread = r.section35.memberPairwiseTv.mean;
  if (gap !== null && spread !== null) {
    out.push(
      `Section 3.5 (FGE members vs the model with their mean weights): the ensemble's probabilities differ from the mean-weights model's by ${gap.toFixed(4)} (total variation, mean over test images and seeds), against ${spread.toFixed(4)} between members (ratio ${(gap / spread).toFixed(2)}). Paper's claim "the ensemble-vs-SWA gap is second order, smaller than the first-order spread between members": ${gap < spread ? "reproduces" : "does NOT reproduce"} here.`,
    );
  }
  const ws = r.width.swa.mean;
  const wg = r.width.sgd.mean;
  const widerIn = r.seeds.filter((s) => {
    const a = s.width.swa.summary.median;
    const b = s.width.sgd.summary.median;
    return (a === null && b !== null) || (a !== null && b !== null && a > b);
  }).length;
  out.push(
    ws !== null && wg !== null
      ? `Width (distance along random rays until train loss rises by ${r.config.widthDelta}): SWA ${ws.toFixed(2)} vs SGD ${wg.toFixed(2)} (median over rays, mean over seeds; SWA wider in ${widerIn} of ${n} seeds). Paper's claim "SWA finds wider solutions": ${widerIn === n ? "reproduces" : widerIn > n / 2 ? "reproduces in most seeds" : "does NOT reproduce"} here.`
      : `Width: some medians were not reached within the rays' range (${r.config.rayDistances.at(-1)}); SWA wider in ${widerIn} of ${n} seeds.`,
  );
  return out;
};

const pm = (s: Summary, scale = 1, digits = 2): string =>
  s.mean === null
    ? "n/a"
    : `${(scale * s.mean).toFixed(digits)} ± ${(scale * (s.std ?? 0)).toFixed(digits)}`;

/** The Markdown section of the experiment (tables, setup, findings, plots). */
export const markdownReport = (
  r: ExperimentReport,
  plots: readonly { file: string; alt: string }[],
  jsonFile: string,
): string => {
  const c = r.config;
  const b = r.budget;
  const lines = [
    "## Experiment: the SWA paper's comparison on Fashion-MNIST",
    "",
    `Command: \`${r.command}\` (${r.createdAt}, ${(r.seconds / 60).toFixed(1)} min on the ${r.backend} backend, ${r.seeds.length} seeds in ${Math.min(c.jobs, r.seeds.length)} process(es)). Every number below is read from \`${jsonFile}\`, written by that command.`,
    "",
    "Setup:",
    "",
    `- Data: ${r.dataset.name} from ${r.dataset.dir}, ${r.dataset.trainUsed.toLocaleString("en-US")} of ${r.dataset.trainTotal.toLocaleString("en-US")} training images, ${r.dataset.testUsed.toLocaleString("en-US")} test images; inputs standardised with the training mean and std, no augmentation.`,
    "- Model: CNN conv32-pool-conv64-pool-dense128-dense10 (3x3 valid convolutions, ReLU, no BatchNorm, so no BN re-estimation is needed), Glorot-uniform init seeded per seed.",
    `- Budget B = ${c.epochs} epochs = ${b.budget} steps of ${c.batchSize} (${b.stepsPerEpoch} steps per epoch). SGD: momentum ${c.momentum}, coupled weight decay ${c.weightDecay}, rate ${c.lrInit} constant to 0.5 B, linear to ${(0.01 * c.lrInit).toPrecision(2)} at 0.9 B, then constant (the authors' schedule, per step).`,
    `- All branches share the SGD pretraining up to step ${b.start} (${(b.start / b.budget).toFixed(3)} B; momentum included), then: SGD continues to B; SWA anneals (SWALR, cosine, ${c.swaAnnealSteps} steps) to ${c.swaLr} and averages every ${c.swaEvery} steps up to B (SWA 1 B, ${r.swaAveraged.budget.mean?.toFixed(0)} models) and on to ${b.extendedEnd} steps (SWA ${c.swaExtendedBudget} B, ${r.swaAveraged.extended.mean?.toFixed(0)} models); FGE runs triangular cycles of ${c.fgeCycle} steps (${c.fgeLrMax} -> ${c.fgeLrMin}) to B with a snapshot at each midpoint (${r.fgeMembers.mean?.toFixed(0)} members, softmax averaged).`,
    `- Width: ${c.rays} random unit directions (the same for both centres), distances ${c.rayDistances.join(", ")}; width = distance where the train loss (${c.widthSamples} training images) first exceeds the centre's by ${c.widthDelta}, interpolated (@wider/geometry rayWidth).`,
    `- Section 3.5: the FGE members' softmax average against the model with their mean weights, on ${Math.min(c.widthSamples, r.dataset.testUsed)} test images (@wider/ensembling compareEnsembleToSwa).`,
    `- Seeds ${c.seeds.join(", ")} (model init and data order). Training speed: ${pm(r.trainingSamplesPerSecond, 1, 0)} samples/s per process.`,
    "",
    `| method | budget | test accuracy (%) | test NLL | test ECE | seeds |`,
    "|---|---|---|---|---|---|",
    ...r.methods.map(
      (m) =>
        `| ${m.label} | ${m.budget} B | ${pm(m.accuracy, 100)} | ${pm(m.nll, 1, 4)} | ${pm(m.ece, 1, 4)} | ${m.accuracy.values.length} |`,
    ),
    "",
    "| solution | width (median over rays; mean ± std over seeds) | rays not exceeded within range | distance SGD–SWA |",
    "|---|---|---|---|",
    `| SGD (1 B) | ${pm(r.width.sgd)} | ${r.width.censoredRays.sgd} of ${c.rays * r.seeds.length} | ${pm(r.sgdSwaDistance)} |`,
    `| SWA (1 B) | ${pm(r.width.swa)} | ${r.width.censoredRays.swa} of ${c.rays * r.seeds.length} | |`,
    "",
    "Per seed (test accuracy %, NLL):",
    "",
    "| seed | SGD | SWA 1 B | SWA ext. | FGE | width SGD | width SWA |",
    "|---|---|---|---|---|---|---|",
    ...r.seeds.map((s) => {
      const f = (m: MethodMetrics) => `${(100 * m.accuracy).toFixed(2)}, ${m.nll.toFixed(4)}`;
      const w = (x: number | null) => (x === null ? "n/a" : x.toFixed(2));
      return `| ${s.seed} | ${f(s.results.sgd)} | ${f(s.results.swa)} | ${f(s.results.swaExtended)} | ${f(s.results.fge)} | ${w(s.width.sgd.summary.median)} | ${w(s.width.swa.summary.median)} |`;
    }),
    "",
    "Findings (computed from the numbers above):",
    "",
    ...r.findings.map((f) => `- ${f}`),
    "",
    ...plots.map((p) => `![${p.alt}](${p.file})`),
  ];
  return `${lines.join("\n")}\n`;
};
