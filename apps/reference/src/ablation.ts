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
import { readWider } from "./compareRead.js";
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
}

const mean = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

/** Reads one cell (a `wider --seeds` output directory). */
export const readCell = async (dir: string): Promise<AblationCell> => {
  const { side, config } = await readWider(dir);
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
  return `${lines.join("\n").trimEnd()}\n`;
};

/** Reads every cell and writes the table (and the docs file's `ablation` section when asked). */
export const ablation = async (
  dirs: readonly string[],
  options: { readonly docs: string | null; readonly command: string },
): Promise<string> => {
  if (dirs.length === 0)
    throw new AppError("ablation: no --cell given; pass one --cell DIR per wider --seeds run", 2);
  const cells: AblationCell[] = [];
  for (const d of dirs) cells.push(await readCell(d));
  const md = ablationMarkdown(cells, options.command);
  if (options.docs !== null) await replaceSection(options.docs, "ablation", md);
  return md;
};

/** Parses `--cell DIR ... [--docs FILE]`. */
export const parseAblationArgs = (
  argv: readonly string[],
): { readonly cells: string[]; readonly docs: string | null } => {
  const cells: string[] = [];
  let docs: string | null = null;
  const args = argv.filter((a) => a !== "--");
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    if (flag !== "--cell" && flag !== "--docs")
      throw new AppError(
        `ablation: unknown argument ${JSON.stringify(flag)}; use --cell DIR (repeat per cell) and --docs FILE`,
        2,
      );
    if (value === undefined || value.startsWith("--"))
      throw new AppError(`ablation: ${flag} needs a value`, 2);
    if (flag === "--cell") cells.push(value);
    else docs = value;
    i++;
  }
  return { cells, docs };
};
