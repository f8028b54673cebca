/**
 * The multi-seed aggregate: per-seed `report.json` files read back through an io-ts codec, every
 * method's test metrics as mean ± std over seeds, the paired differences (SWA − SGD, FGE − SWA and
 * any other pair of methods present) with a paired t-test, widths and the SGD–SWA distance, and
 * findings stated from those numbers. Methods are whatever the seeds' `results` hold, so a method
 * added to the run (a longer SWA, SWAG) enters the aggregate without a change here.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError } from "./AppError.js";
import { type PairedDifference, pairedDifference, type Summary, summarize } from "./stats.js";
import {
  aggregateTrajectory,
  aggregateTrajectoryLines,
  type TrajectoryAggregate,
  TrajectoryFindings,
} from "./trajectoryFindings.js";

const Metrics = t.type({ accuracy: t.number, nll: t.number, ece: t.number, brier: t.number });
const Width = t.union([
  t.type({ median: t.union([t.number, t.null]), censored: t.number, count: t.number }),
  t.null,
]);

/** The part of a run's `report.json` the aggregate reads (`trajectory`: absent in older reports). */
export const SeedReport = t.intersection([
  t.type({
    tool: t.literal("wider"),
    config: t.type({ seed: t.number, dataSeed: t.number, out: t.string }),
    backend: t.type({ name: t.string }),
    dataset: t.type({
      name: t.string,
      trainUsed: t.number,
      trainTotal: t.number,
      testUsed: t.number,
    }),
    model: t.type({ name: t.string, parameters: t.number }),
    results: t.UnknownRecord,
    geometry: t.type({
      rays: t.type({ widthSgd: Width, widthSwa: Width }),
      segment: t.union([t.type({ plan: t.type({ length: t.number }) }), t.null]),
    }),
    seconds: t.record(t.string, t.number),
  }),
  t.partial({
    trajectory: t.union([t.type({ findings: TrajectoryFindings }), t.null]),
  }),
]);
/** A run's report as the aggregate sees it. */
export type SeedReport = t.TypeOf<typeof SeedReport>;

/** Test metrics of one method across seeds. */
export interface MethodSummary {
  readonly key: string;
  readonly accuracy: Summary;
  readonly nll: Summary;
  readonly ece: Summary;
  readonly brier: Summary;
}

/** A paired comparison of two methods. */
export interface Comparison {
  readonly a: string;
  readonly b: string;
  readonly accuracy: PairedDifference;
  readonly nll: PairedDifference;
  readonly ece: PairedDifference;
}

/** `aggregate.json`. */
export interface Aggregate {
  readonly tool: "wider-aggregate";
  readonly version: 1;
  readonly createdAt: string;
  readonly seeds: readonly number[];
  readonly runs: readonly string[];
  readonly dataset: SeedReport["dataset"];
  readonly model: SeedReport["model"];
  readonly backend: string;
  readonly methods: readonly MethodSummary[];
  readonly comparisons: readonly Comparison[];
  readonly width: { readonly sgd: Summary; readonly swa: Summary };
  readonly sgdSwaDistance: Summary;
  /** Wall seconds of each seed's run, summed over its phases. */
  readonly seconds: Summary;
  /** MultiSWAG over the seeds' SWAG states (null without SWAG or with one seed). */
  readonly multiSwag: {
    readonly accuracy: number;
    readonly nll: number;
    readonly ece: number;
    readonly brier: number;
    readonly members: number;
    readonly samples: number;
  } | null;
  /** Section 3.1's findings over the seeds with a trajectory analysis (null: none had one). */
  readonly trajectory: TrajectoryAggregate | null;
  readonly findings: readonly string[];
}

/** Reads and decodes a seed's `report.json`; a bad file is an {@link AppError} naming it. */
export const readSeedReport = async (file: string): Promise<SeedReport> => {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new AppError(`aggregate: cannot read ${file} (${(e as Error).message}); rerun that seed`);
  }
  const r = SeedReport.decode(json);
  if (E.isLeft(r))
    throw new AppError(
      `aggregate: ${file} is not a wider report.json of this version; rerun that seed`,
    );
  return r.right;
};

const metricsOf = (r: SeedReport, key: string): t.TypeOf<typeof Metrics> | null => {
  const m = Metrics.decode(r.results[key]);
  return E.isRight(m) ? m.right : null;
};

/** The methods present in every seed's results, in the first report's order. */
export const methodKeys = (reports: readonly SeedReport[]): string[] => {
  const first = reports[0];
  if (first === undefined) return [];
  return Object.keys(first.results).filter((k) => reports.every((r) => metricsOf(r, k) !== null));
};

const column = (reports: readonly SeedReport[], key: string, m: keyof t.TypeOf<typeof Metrics>) =>
  reports.map((r) => metricsOf(r, key)?.[m] ?? null);

const compare = (reports: readonly SeedReport[], a: string, b: string): Comparison => ({
  a,
  b,
  accuracy: pairedDifference(column(reports, a, "accuracy"), column(reports, b, "accuracy")),
  nll: pairedDifference(column(reports, a, "nll"), column(reports, b, "nll")),
  ece: pairedDifference(column(reports, a, "ece"), column(reports, b, "ece")),
});

/** Distance between the SGD and SWA solutions: the length of the segment between them. */
const sgdSwaDistance = (r: SeedReport): number | null => r.geometry.segment?.plan.length ?? null;

/** The aggregate over seeds (`reports[i]` is the run of `seeds[i]`). */
export const aggregate = (
  seeds: readonly number[],
  runs: readonly string[],
  reports: readonly SeedReport[],
  multiSwag: Aggregate["multiSwag"] = null,
): Aggregate => {
  const first = reports[0];
  if (first === undefined) throw new AppError("aggregate: no seed finished; nothing to aggregate");
  const keys = methodKeys(reports);
  const methods = keys.map((key) => ({
    key,
    accuracy: summarize(column(reports, key, "accuracy")),
    nll: summarize(column(reports, key, "nll")),
    ece: summarize(column(reports, key, "ece")),
    brier: summarize(column(reports, key, "brier")),
  }));
  const pairs: Array<[string, string]> = [
    ["swa", "sgd"],
    ["fge", "swa"],
    ["fge", "sgd"],
    ...keys
      .filter((k) => !["sgd", "swa", "fge", "pretrained"].includes(k))
      .map((k) => [k, "swa"] as [string, string]),
  ];
  const comparisons = pairs
    .filter(([a, b]) => keys.includes(a) && keys.includes(b))
    .map(([a, b]) => compare(reports, a, b));
  const base = {
    tool: "wider-aggregate" as const,
    version: 1 as const,
    createdAt: new Date().toISOString(),
    seeds,
    runs,
    dataset: first.dataset,
    model: first.model,
    backend: first.backend.name,
    methods,
    comparisons,
    width: {
      sgd: summarize(reports.map((r) => r.geometry.rays.widthSgd?.median ?? null)),
      swa: summarize(reports.map((r) => r.geometry.rays.widthSwa?.median ?? null)),
    },
    sgdSwaDistance: summarize(reports.map(sgdSwaDistance)),
    seconds: summarize(
      reports.map(
        (r) => Object.values(r.seconds).reduce((s, x) => s + x, 0) - (r.seconds.thisProcess ?? 0),
      ),
    ),
    multiSwag:
      multiSwag === null
        ? null
        : {
            accuracy: multiSwag.accuracy,
            nll: multiSwag.nll,
            ece: multiSwag.ece,
            brier: multiSwag.brier,
            members: multiSwag.members,
            samples: multiSwag.samples,
          },
    trajectory: aggregateTrajectory(reports.map((r) => r.trajectory?.findings ?? null)),
  };
  return { ...base, findings: findings(base, reports) };
};

const signed = (x: number, digits: number, scale = 1): string =>
  `${x >= 0 ? "+" : ""}${(scale * x).toFixed(digits)}`;

const pText = (d: PairedDifference): string =>
  d.p === null
    ? "no test (fewer than 2 seeds or no spread)"
    : `paired t-test p = ${d.p.toPrecision(2)}`;

/** Plain statements, each computed from the per-seed numbers. */
const findings = (a: Omit<Aggregate, "findings">, reports: readonly SeedReport[]): string[] => {
  const out: string[] = [];
  const n = reports.length;
  const claim = (c: Comparison, label: string, paper: string): void => {
    const acc = c.accuracy;
    if (acc.mean === null || acc.std === null) return;
    const wins = acc.values.filter((v) => v !== null && v > 0).length;
    const significant = acc.p !== null && acc.p < 0.05;
    const verdict =
      acc.mean > 0 && significant
        ? "holds here (significant at 5 %)"
        : acc.mean > 0
          ? "points the same way here but is not significant at 5 %"
          : "does NOT hold here";
    out.push(
      `${label}: test accuracy ${signed(acc.mean, 2, 100)} ± ${(100 * acc.std).toFixed(2)} points (higher in ${wins} of ${n} seeds; ${pText(acc)}), NLL ${c.nll.mean === null ? "n/a" : signed(c.nll.mean, 4)}. Paper: "${paper}": ${verdict}.`,
    );
  };
  const find = (x: string, y: string) => a.comparisons.find((c) => c.a === x && c.b === y);
  const swaSgd = find("swa", "sgd");
  if (swaSgd) claim(swaSgd, "SWA − SGD", "SWA beats SGD at equal budget");
  const fgeSwa = find("fge", "swa");
  if (fgeSwa?.accuracy.mean != null) {
    const m = fgeSwa.accuracy.mean;
    out.push(
      `FGE − SWA: test accuracy ${signed(m, 2, 100)} points (${pText(fgeSwa.accuracy)}). Paper: "SWA matches FGE with one model": ${m <= 0.003 ? "holds here (SWA within 0.3 points of FGE or better)" : "does NOT hold here"}.`,
    );
  }
  const swagSwa = find("swag", "swa");
  if (swagSwa?.nll.mean != null && swagSwa.ece.mean != null) {
    const better = swagSwa.nll.mean < 0 && swagSwa.ece.mean < 0;
    const sig = (swagSwa.nll.p ?? 1) < 0.05 && (swagSwa.ece.p ?? 1) < 0.05;
    out.push(
      `SWAG − SWA: NLL ${signed(swagSwa.nll.mean, 4)} ± ${(swagSwa.nll.std ?? 0).toFixed(4)} (${pText(swagSwa.nll)}), ECE ${signed(swagSwa.ece.mean, 4)} ± ${(swagSwa.ece.std ?? 0).toFixed(4)} (${pText(swagSwa.ece)}), accuracy ${signed(swagSwa.accuracy.mean ?? 0, 2, 100)} points. SWAG paper: "SWAG improves NLL and calibration over SWA": ${better ? (sig ? "holds here (both significant at 5 %)" : "points the same way here, not significant at 5 % on both") : "does NOT hold here"}.`,
    );
  }
  const ms = a.multiSwag;
  const meanOf = (key: string) => a.methods.find((m) => m.key === key);
  if (ms !== null) {
    const swag = meanOf("swag");
    const fge = meanOf("fge");
    out.push(
      `MultiSWAG (${ms.members} SWAG runs, ${ms.samples} samples): accuracy ${(100 * ms.accuracy).toFixed(2)} %, NLL ${ms.nll.toFixed(4)}, ECE ${ms.ece.toFixed(4)}, against one SWAG run's mean ${swag?.accuracy.mean == null ? "n/a" : `${(100 * swag.accuracy.mean).toFixed(2)} %, NLL ${swag.nll.mean?.toFixed(4)}`}${fge?.nll.mean == null ? "" : ` and FGE's NLL ${fge.nll.mean.toFixed(4)}`}. MultiSWAG paper: "ensembling SWAG runs improves on one": ${swag?.nll.mean != null && ms.nll < swag.nll.mean ? "holds here (lower NLL than the mean single run)" : "does NOT hold here"}.`,
    );
  }
  const ws = a.width.swa.mean;
  const wg = a.width.sgd.mean;
  const wider = reports.filter((r) => {
    const s = r.geometry.rays.widthSwa?.median;
    const g = r.geometry.rays.widthSgd?.median;
    return s != null && g != null && s > g;
  }).length;
  if (ws !== null && wg !== null)
    out.push(
      `Width (median over rays): SWA ${ws.toFixed(2)} vs SGD ${wg.toFixed(2)}, SWA wider in ${wider} of ${n} seeds; the two solutions are ${a.sgdSwaDistance.mean === null ? "an unknown distance" : a.sgdSwaDistance.mean.toFixed(2)} apart. Paper: "SWA finds wider solutions": ${wider === n ? "holds here" : wider > n / 2 ? "holds in most seeds" : "does NOT hold here"}.`,
    );
  if (a.trajectory !== null) out.push(...aggregateTrajectoryLines(a.trajectory));
  return out;
};
