/**
 * The MLP ablation of issue 14 ("where averaging helps at this scale"): one multi-seed run per
 * cell (`swaLr` x augmentation), read back from each cell's `aggregate.json` and `seeds.json`, as
 * one table of SWA − SGD accuracy and NLL (mean ± std over the cell's seeds, paired t-test), with
 * the best and the worst cell named with their spread. Every cell is shown; none is dropped.
 *
 * @module
 */
import { AppError } from "./AppError.js";
import { replaceSection } from "./aggregateReport.js";
import { type Metric, readWider, type Side } from "./compareRead.js";
import { type PairedDifference, pairedDifference } from "./stats.js";

/** One cell of the ablation: its settings and SWA − SGD over its seeds. */
export interface AblationCell {
  readonly dir: string;
  readonly swaLr: unknown;
  readonly augment: unknown;
  readonly seeds: readonly number[];
  readonly accuracy: PairedDifference;
  readonly nll: PairedDifference;
  readonly sgdAccuracy: number | null;
  readonly swaAccuracy: number | null;
  /** SGD's per-seed test accuracy and NLL, aligned with `seeds` (SGD does not depend on swaLr). */
  readonly sgd: {
    readonly accuracy: readonly (number | null)[];
    readonly nll: readonly (number | null)[];
  };
}

const mean = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

/**
 * Config fields that do not change the SGD run or the SWA average at the budget (geometry, SWAG,
 * the longer SWA, where the output goes): cells may differ in them, so that a finished run of the
 * same training config (the main experiment) can stand as a cell. `workers` absent means 1.
 */
const IRRELEVANT = new Set([
  "out",
  "seed",
  "swaExtend",
  "swagRank",
  "swagSamples",
  "swagScale",
  "rays",
  "rayPoints",
  "rayDistance",
  "widthThreshold",
  "segmentPoints",
  "planeGrid",
  "geometrySubset",
  "geometrySeed",
  "trajectoryGrid",
]);
/** The fields an ablation varies. */
const VARIED = new Set(["swaLr", "augment"]);

/** Fields (other than the varied and irrelevant ones) where two cells' configs differ. */
export const cellDrift = (a: Record<string, unknown>, b: Record<string, unknown>): string[] => {
  const norm = (c: Record<string, unknown>, k: string): string =>
    JSON.stringify(k === "workers" ? (c[k] ?? 1) : c[k]);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !IRRELEVANT.has(k) && !VARIED.has(k) && norm(a, k) !== norm(b, k))
    .sort()
    .map((k) => `${k} (${norm(a, k)} vs ${norm(b, k)})`);
};

/** The values of `side` restricted to `seeds` (each must be present), in that order. */
const restrict = (
  dir: string,
  side: Side,
  seeds: readonly number[] | null,
): { seeds: readonly number[]; values: Side["values"] } => {
  if (seeds === null) return side;
  const at = seeds.map((s) => {
    const i = side.seeds.indexOf(s);
    if (i < 0)
      throw new AppError(
        `ablation: ${dir} has no seed ${s} (it has ${side.seeds.join(", ")}); run it with --resume and that seed, or pass --seeds with the seeds every cell has`,
        1,
      );
    return i;
  });
  const values: Record<string, Record<Metric, (number | null)[]>> = {};
  for (const [method, byMetric] of Object.entries(side.values)) {
    const pick = (m: Metric) => at.map((i) => byMetric[m][i] ?? null);
    values[method] = { accuracy: pick("accuracy"), nll: pick("nll"), ece: pick("ece") };
  }
  return { seeds, values };
};

/** Reads one cell (a `wider --seeds` output directory), restricted to `seeds` when given. */
export const readCell = async (
  dir: string,
  seeds: readonly number[] | null = null,
): Promise<AblationCell & { readonly config: Record<string, unknown> }> => {
  const { side: full, config } = await readWider(dir);
  const side = restrict(dir, full, seeds);
  const sgd = side.values.sgd;
  const swa = side.values.swa;
  if (sgd === undefined || swa === undefined)
    throw new AppError(`ablation: ${dir} has no SGD or SWA results; run its seeds to the end`, 1);
  return {
    dir,
    swaLr: config.swaLr,
    augment: config.augment,
    seeds: side.seeds,
    accuracy: pairedDifference(swa.accuracy, sgd.accuracy),
    nll: pairedDifference(swa.nll, sgd.nll),
    sgdAccuracy: mean(sgd.accuracy),
    swaAccuracy: mean(swa.accuracy),
    sgd: { accuracy: sgd.accuracy, nll: sgd.nll },
    config,
  };
};

const pm = (d: PairedDifference, scale: number, digits: number): string =>
  d.mean === null
    ? "n/a"
    : `${d.mean >= 0 ? "+" : ""}${(scale * d.mean).toFixed(digits)} ± ${(scale * (d.std ?? 0)).toFixed(digits)}`;

const pOf = (d: PairedDifference): string => (d.p === null ? "-" : d.p.toPrecision(2));

const name = (c: AblationCell): string => `swaLr ${String(c.swaLr)}, augment ${String(c.augment)}`;

/** The ablation table and the best/worst cells, as Markdown. */
export const ablationMarkdown = (cells: readonly AblationCell[], command: string): string => {
  const ranked = cells
    .filter((c) => c.accuracy.mean !== null)
    .sort((x, y) => (y.accuracy.mean ?? 0) - (x.accuracy.mean ?? 0));
  const best = ranked[0];
  const worst = ranked.at(-1);
  const lines = [
    `Command: \`${command}\`. SWA − SGD per cell, mean ± std over the cell's seeds, two-sided paired t-test p.`,
    "",
    "| swaLr | augment | seeds | SGD accuracy (%) | SWA accuracy (%) | SWA − SGD accuracy (points) | p | SWA − SGD NLL | p |",
    "|---|---|---|---|---|---|---|---|---|",
    ...cells.map(
      (c) =>
        `| ${String(c.swaLr)} | ${String(c.augment)} | ${c.seeds.join(", ")} | ${c.sgdAccuracy === null ? "n/a" : (100 * c.sgdAccuracy).toFixed(2)} | ${c.swaAccuracy === null ? "n/a" : (100 * c.swaAccuracy).toFixed(2)} | ${pm(c.accuracy, 100, 2)} | ${pOf(c.accuracy)} | ${pm(c.nll, 1, 4)} | ${pOf(c.nll)} |`,
    ),
    "",
  ];
  if (best !== undefined && worst !== undefined && ranked.length > 1)
    lines.push(
      `Best cell (SWA − SGD accuracy): ${name(best)}, ${pm(best.accuracy, 100, 2)} points (p ${pOf(best.accuracy)}). Worst: ${name(worst)}, ${pm(worst.accuracy, 100, 2)} points (p ${pOf(worst.accuracy)}). The spread between them is ${(100 * ((best.accuracy.mean ?? 0) - (worst.accuracy.mean ?? 0))).toFixed(2)} points.`,
    );
  lines.push("", ...sgdConsistency(cells));
  return `${lines.join("\n").trimEnd()}\n`;
};

/**
 * SGD's run does not depend on `swaLr`, so cells with the same augmentation must report the same
 * SGD results seed by seed (bit for bit on one backend); one line per augmentation with two or more
 * cells, saying whether they do and by how much they differ. A difference means the cells were not
 * run with the same code or backend, and the table compares across that.
 */
export const sgdConsistency = (cells: readonly AblationCell[]): string[] => {
  const byAugment = new Map<string, AblationCell[]>();
  for (const c of cells)
    byAugment.set(String(c.augment), [...(byAugment.get(String(c.augment)) ?? []), c]);
  const out: string[] = [];
  for (const [augment, group] of byAugment) {
    if (group.length < 2) continue;
    let acc = 0;
    let nll = 0;
    let shared = 0;
    const [first, ...rest] = group as [AblationCell, ...AblationCell[]];
    for (const c of rest)
      c.seeds.forEach((seed, i) => {
        const j = first.seeds.indexOf(seed);
        const a0 = first.sgd.accuracy[j];
        const a1 = c.sgd.accuracy[i];
        const n0 = first.sgd.nll[j];
        const n1 = c.sgd.nll[i];
        if (j < 0 || a0 == null || a1 == null || n0 == null || n1 == null) return;
        shared++;
        acc = Math.max(acc, Math.abs(a0 - a1));
        nll = Math.max(nll, Math.abs(n0 - n1));
      });
    out.push(
      shared === 0
        ? `SGD check (augment ${augment}): the cells share no seed, so their SGD runs cannot be compared.`
        : acc === 0 && nll === 0
          ? `SGD check (augment ${augment}): the ${group.length} cells' SGD runs agree exactly on all ${shared} shared seed pairs (SGD does not depend on swaLr), so their SWA − SGD differences share one baseline.`
          : `SGD check (augment ${augment}): the cells' SGD runs differ (largest |Δ accuracy| ${(100 * acc).toFixed(2)} points, |Δ NLL| ${nll.toPrecision(2)} over ${shared} seed pairs) although SGD does not depend on swaLr: the cells were not run with the same code or backend.`,
    );
  }
  return out;
};

/** Reads every cell and writes the table (and the docs file's `ablation` section when asked). */
export const ablation = async (
  dirs: readonly string[],
  options: {
    readonly docs: string | null;
    readonly command: string;
    readonly seeds?: readonly number[] | null;
  },
): Promise<string> => {
  if (dirs.length === 0)
    throw new AppError("ablation: no --cell given; pass one --cell DIR per wider --seeds run", 2);
  const cells: (AblationCell & { readonly config: Record<string, unknown> })[] = [];
  for (const d of dirs) cells.push(await readCell(d, options.seeds ?? null));
  const first = cells[0];
  for (const c of cells.slice(1)) {
    const drift = first === undefined ? [] : cellDrift(first.config, c.config);
    if (drift.length > 0)
      throw new AppError(
        `ablation: ${c.dir} differs from ${first?.dir} in ${drift.join(", ")}; the cells may differ only in swaLr and augment (and in geometry, SWAG and swaExtend, which leave SGD and SWA at the budget unchanged)`,
        1,
      );
  }
  const md = ablationMarkdown(cells, options.command);
  if (options.docs !== null) await replaceSection(options.docs, "ablation", md);
  return md;
};

/** Parses `--cell DIR ... [--seeds 0,1,2] [--docs FILE]`. */
export const parseAblationArgs = (
  argv: readonly string[],
): {
  readonly cells: string[];
  readonly docs: string | null;
  readonly seeds: readonly number[] | null;
} => {
  const cells: string[] = [];
  let docs: string | null = null;
  let seeds: number[] | null = null;
  const args = argv.filter((a) => a !== "--");
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    if (flag !== "--cell" && flag !== "--docs" && flag !== "--seeds")
      throw new AppError(
        `ablation: unknown argument ${JSON.stringify(flag)}; use --cell DIR (repeat per cell), --seeds 0,1,2 and --docs FILE`,
        2,
      );
    if (value === undefined || value.startsWith("--"))
      throw new AppError(`ablation: ${flag} needs a value`, 2);
    if (flag === "--cell") cells.push(value);
    else if (flag === "--docs") docs = value;
    else {
      const parts = value.split(",").map((x) => x.trim());
      if (!parts.every((x) => /^\d+$/.test(x)) || new Set(parts).size !== parts.length)
        throw new AppError(
          `ablation: --seeds ${JSON.stringify(value)} is not a list of distinct seeds; write e.g. --seeds 0,1,2`,
          2,
        );
      seeds = parts.map(Number);
    }
    i++;
  }
  return { cells, docs, seeds };
};
