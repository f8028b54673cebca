/**
 * Wider beside its PyTorch twin (`experiments/twin/twin.py`, issue 14): reads a multi-seed run's
 * `aggregate.json` (+ `seeds.json`, its base config) and the twin's `seed-<s>.json` files, and
 * writes one Markdown table per model with both sides' mean ± std, the paired differences
 * (SWA − SGD, FGE − SWA, …) of each side with the SAME statistics code (`stats.ts`), and a line per
 * method and metric where the two means differ by more than two combined standard errors
 * (`sqrt(s_w² / n_w + s_t² / n_t)`). The twin's config must equal the run's on every field the
 * twin reads, so a table never puts two different protocols side by side. Reading both sides is
 * in `compareRead.ts`.
 *
 * @module
 */
import { AppError } from "./AppError.js";
import { replaceSection } from "./aggregateReport.js";
import { claimLines } from "./compareClaims.js";
import {
  compareMetrics,
  configDrift,
  type Metric,
  readTwin,
  readWider,
  type Side,
} from "./compareRead.js";
import { type PairedDifference, pairedDifference, type Summary, summarize } from "./stats.js";

/** A method's metric on both sides, and whether the means differ by more than 2 combined SEs. */
export interface MetricComparison {
  readonly method: string;
  readonly metric: Metric;
  readonly wider: Summary;
  readonly twin: Summary;
  /** Wider mean − twin mean (null when a side has no value). */
  readonly difference: number | null;
  /** `sqrt(s_w² / n_w + s_t² / n_t)`. */
  readonly standardError: number | null;
  readonly differs: boolean;
}

const finiteCount = (s: Summary): number =>
  s.values.filter((v) => v !== null && Number.isFinite(v)).length;

/** Compares one method's metric across the two sides. */
export const compareMetric = (
  method: string,
  metric: Metric,
  wider: readonly (number | null)[],
  twin: readonly (number | null)[],
): MetricComparison => {
  const w = summarize(wider);
  const tw = summarize(twin);
  if (w.mean === null || tw.mean === null || w.std === null || tw.std === null)
    return {
      method,
      metric,
      wider: w,
      twin: tw,
      difference: null,
      standardError: null,
      differs: false,
    };
  const se = Math.sqrt(w.std ** 2 / finiteCount(w) + tw.std ** 2 / finiteCount(tw));
  const difference = w.mean - tw.mean;
  return {
    method,
    metric,
    wider: w,
    twin: tw,
    difference,
    standardError: se,
    differs: Math.abs(difference) > 2 * se,
  };
};

/** The paired differences each side reports (the same pairs as the aggregate). */
export const pairsOf = (methods: readonly string[]): Array<[string, string]> =>
  (
    [
      ["swa", "sgd"],
      ["swaExtended", "sgd"],
      ["fge", "swa"],
      ["fge", "sgd"],
    ] as Array<[string, string]>
  ).filter(([a, b]) => methods.includes(a) && methods.includes(b));

const label = (key: string): string =>
  ({ sgd: "SGD", swa: "SWA", swaExtended: "SWA 1.25 B", fge: "FGE", pretrained: "pretrained" })[
    key
  ] ?? key;

const scaleOf = (m: Metric): [number, number] => (m === "accuracy" ? [100, 2] : [1, 4]);

const pm = (s: Summary, m: Metric): string => {
  const [scale, digits] = scaleOf(m);
  return s.mean === null
    ? "n/a"
    : `${(scale * s.mean).toFixed(digits)} ± ${(scale * (s.std ?? 0)).toFixed(digits)}`;
};

const secs = (s: Summary): string =>
  s.mean === null ? "n/a" : `${Math.round(s.mean)} ± ${Math.round(s.std ?? 0)}`;

const diffText = (d: PairedDifference, m: Metric): string => {
  const [scale, digits] = scaleOf(m);
  const v =
    d.mean === null
      ? "n/a"
      : `${d.mean >= 0 ? "+" : ""}${(scale * d.mean).toFixed(digits)} ± ${(scale * (d.std ?? 0)).toFixed(digits)}`;
  return `${v} | ${d.p === null ? "-" : d.p.toPrecision(2)}`;
};

/** One model's Markdown section: side-by-side metrics, paired differences, discrepancies. */
export const compareMarkdown = (wider: Side, twin: Side): string => {
  const methods = Object.keys(wider.values).filter((k) => k in twin.values);
  const rows = methods.flatMap((k) =>
    compareMetrics.map((m) =>
      compareMetric(k, m, wider.values[k]?.[m] ?? [], twin.values[k]?.[m] ?? []),
    ),
  );
  const cell = (k: string, m: Metric) => rows.find((r) => r.method === k && r.metric === m);
  const flagged = rows.filter((r) => r.differs);
  const pairs = pairsOf(methods);
  const paired = (side: Side, a: string, b: string, m: Metric) =>
    pairedDifference(side.values[a]?.[m] ?? [], side.values[b]?.[m] ?? []);
  const lines = [
    `### ${wider.model} on ${wider.dataset.name}`,
    "",
    `${wider.label}: seeds ${wider.seeds.join(", ")}, ${wider.dataset.trainUsed.toLocaleString("en-US")} training images, ${wider.dataset.testUsed.toLocaleString("en-US")} test images, ${secs(wider.seconds)} s per seed. ${twin.label}: seeds ${twin.seeds.join(", ")}, ${twin.dataset.trainUsed.toLocaleString("en-US")} training images, ${twin.dataset.testUsed.toLocaleString("en-US")} test images, ${secs(twin.seconds)} s per seed.`,
    "",
    "| method | accuracy (%) Wider | accuracy (%) twin | NLL Wider | NLL twin | ECE Wider | ECE twin |",
    "|---|---|---|---|---|---|---|",
    ...methods.map((k) => {
      const c = (m: Metric) => cell(k, m) as MetricComparison;
      return `| ${label(k)} | ${compareMetrics.map((m) => `${pm(c(m).wider, m)}${c(m).differs ? " (*)" : ""} | ${pm(c(m).twin, m)}`).join(" | ")} |`;
    }),
    "",
    "Paired differences over each side's seeds (mean ± std; two-sided paired t-test p):",
    "",
    "| difference | side | accuracy (points) | p | NLL | p | ECE | p |",
    "|---|---|---|---|---|---|---|---|",
    ...pairs.flatMap(([a, b]) =>
      [wider, twin].map(
        (side) =>
          `| ${label(a)} − ${label(b)} | ${side === wider ? "Wider" : "twin"} | ${compareMetrics.map((m) => diffText(paired(side, a, b, m), m)).join(" | ")} |`,
      ),
    ),
    "",
    flagged.length === 0
      ? "No method's mean differs between Wider and the twin by more than two combined standard errors (accuracy, NLL, ECE)."
      : "Where Wider and the twin differ by more than two combined standard errors (marked (*) above; to be explained before the experiment is called done):",
    "",
    ...flagged.map((r) => {
      const [scale, digits] = scaleOf(r.metric);
      return `- ${label(r.method)} ${r.metric}: Wider ${pm(r.wider, r.metric)} vs twin ${pm(r.twin, r.metric)}; difference ${((r.difference ?? 0) * scale).toFixed(digits)}, two combined standard errors ${(2 * (r.standardError ?? 0) * scale).toFixed(digits)}.`;
    }),
    "",
    "Claims of the paper at this scale, on both sides:",
    "",
    ...claimLines(wider, twin),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
};

/** What `compareMain` does: read each (Wider, twin) pair, check configs, write Markdown. */
export const compareRuns = async (
  pairs: readonly { readonly wider: string; readonly twin: string }[],
  options: { readonly docs: string | null; readonly command: string },
): Promise<string> => {
  const sections: string[] = [];
  for (const p of pairs) {
    const w = await readWider(p.wider);
    const tw = await readTwin(p.twin);
    const drift = configDrift(w.config, tw.seeds);
    if (drift.length > 0)
      throw new AppError(
        `compare: the twin in ${p.twin} ran another configuration than ${p.wider}: ${drift.join("; ")}; rerun the twin with the run's config file and no overrides`,
      );
    sections.push(compareMarkdown(w.side, tw.side));
  }
  const md = `Command: \`${options.command}\`. Wider and its PyTorch twin (\`experiments/twin/twin.py\`) on the same protocol, data order and seeds; only the initial weights and float rounding differ.\n\n${sections.join("\n")}`;
  if (options.docs !== null) await replaceSection(options.docs, "twin", md);
  return md;
};

const usage =
  "usage: compareMain.js --wider DIR --twin DIR [--wider DIR --twin DIR ...] [--docs FILE]";

/** Parses the flags: `--wider`/`--twin` pairs in order, optional `--docs`. */
export const parseCompareArgs = (
  argv: readonly string[],
): { pairs: Array<{ wider: string; twin: string }>; docs: string | null } => {
  const args = argv[0] === "--" ? argv.slice(1) : argv; // `pnpm compare -- ...` passes the "--"
  const wider: string[] = [];
  const twin: string[] = [];
  let docs: string | null = null;
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i];
    const value = args[i + 1];
    if (value === undefined || value.startsWith("--"))
      throw new AppError(`${flag}: missing its value; ${usage}`);
    if (flag === "--wider") wider.push(value);
    else if (flag === "--twin") twin.push(value);
    else if (flag === "--docs") docs = value;
    else throw new AppError(`unknown option ${flag}; ${usage}`);
  }
  if (wider.length === 0 || wider.length !== twin.length)
    throw new AppError(
      `give each --wider directory its --twin directory (got ${wider.length} and ${twin.length}); ${usage}`,
    );
  return { pairs: wider.map((w, i) => ({ wider: w, twin: twin[i] as string })), docs };
};
