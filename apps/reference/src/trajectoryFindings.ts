/**
 * The three claims of the paper's section 3.1, computed from a run's trajectory analysis and
 * aggregated over seeds: (1) proposals are better under the cyclical rate than under the constant
 * one (mean proposal test error); (2) the SWA average is better than every proposal (for each
 * rate: the final average's test error below the best proposal's); (3) the constant rate explores
 * farther (the proposals' spread, their mean distance from their mean, is larger).
 *
 * @module
 */
import * as t from "io-ts";
import { type Summary, summarize } from "./stats.js";
import type { RateRun } from "./trajectory.js";

const Verdict = t.union([t.boolean, t.null]);

/** The findings of one run (io-ts codec: the aggregate reads them back from `report.json`). */
export const TrajectoryFindings = t.type({
  /** Mean test error of the proposals under each rate; holds when cyclical < constant. */
  cyclicalBetter: t.type({ holds: t.boolean, cyclical: t.number, constant: t.number }),
  /**
   * Per rate, the final SWA average's test error and the best proposal's; holds when the average
   * is below the best proposal under both rates (`null`: fewer than two proposals per rate).
   */
  averageBetter: t.type({
    holds: Verdict,
    cyclical: t.type({ swa: t.number, bestProposal: t.number }),
    constant: t.type({ swa: t.number, bestProposal: t.number }),
  }),
  /** Spread of the proposals per rate; holds when constant > cyclical (`null`: one proposal). */
  constantFarther: t.type({ holds: Verdict, cyclical: t.number, constant: t.number }),
});
/** The findings of one run. */
export type TrajectoryFindings = t.TypeOf<typeof TrajectoryFindings>;

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The three findings from the two rates' runs (same number of proposals each). */
export const trajectoryFindings = (cyc: RateRun, con: RateRun): TrajectoryFindings => {
  const several = cyc.proposalErrors.length >= 2 && con.proposalErrors.length >= 2;
  const avg = (r: RateRun) => ({
    swa: r.swaErrors.at(-1) ?? Number.NaN,
    bestProposal: Math.min(...r.proposalErrors),
  });
  const a = { cyclical: avg(cyc), constant: avg(con) };
  return {
    cyclicalBetter: {
      holds: mean(cyc.proposalErrors) < mean(con.proposalErrors),
      cyclical: mean(cyc.proposalErrors),
      constant: mean(con.proposalErrors),
    },
    averageBetter: {
      holds: several
        ? a.cyclical.swa < a.cyclical.bestProposal && a.constant.swa < a.constant.bestProposal
        : null,
      ...a,
    },
    constantFarther: {
      holds: several ? con.spread > cyc.spread : null,
      cyclical: cyc.spread,
      constant: con.spread,
    },
  };
};

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const verdict = (h: boolean | null, why: string): string =>
  h === null ? `not measurable here (${why})` : h ? "holds here" : "does not hold here";

/** One line per finding, each with its numbers and "holds"/"does not hold" here. */
export const findingLines = (f: TrajectoryFindings): [string, string, string] => {
  const one = "one proposal per rate; lower --swa-every or raise --epochs";
  const a = f.averageBetter;
  return [
    `Proposals better under the cyclical rate than under the constant one: mean proposal test error ${pct(f.cyclicalBetter.cyclical)} (cyclical) vs ${pct(f.cyclicalBetter.constant)} (constant): ${verdict(f.cyclicalBetter.holds, one)}.`,
    `The average better than every proposal: SWA ${pct(a.cyclical.swa)} vs best proposal ${pct(a.cyclical.bestProposal)} (cyclical), SWA ${pct(a.constant.swa)} vs best proposal ${pct(a.constant.bestProposal)} (constant): ${verdict(a.holds, one)}.`,
    `The constant rate explores farther: spread of the proposals (mean distance from their mean) ${f.constantFarther.constant.toFixed(3)} (constant) vs ${f.constantFarther.cyclical.toFixed(3)} (cyclical): ${verdict(f.constantFarther.holds, one)}.`,
  ];
};

/** A finding over seeds: in how many it holds, out of those where it was measurable. */
export interface SeedCount {
  readonly holdsIn: number;
  readonly of: number;
}

/** The three findings across seeds, with their numbers as mean ± std. */
export interface TrajectoryAggregate {
  /** Seeds with a trajectory analysis. */
  readonly seeds: number;
  readonly cyclicalBetter: SeedCount & { readonly cyclical: Summary; readonly constant: Summary };
  readonly averageBetter: SeedCount & {
    readonly swaCyclical: Summary;
    readonly bestCyclical: Summary;
    readonly swaConstant: Summary;
    readonly bestConstant: Summary;
  };
  readonly constantFarther: SeedCount & { readonly cyclical: Summary; readonly constant: Summary };
}

const count = (hs: ReadonlyArray<boolean | null>): SeedCount => ({
  holdsIn: hs.filter((h) => h === true).length,
  of: hs.filter((h) => h !== null).length,
});

/** Aggregates the findings of the seeds that have them (`null` when none has). */
export const aggregateTrajectory = (
  fs: ReadonlyArray<TrajectoryFindings | null>,
): TrajectoryAggregate | null => {
  const ok = fs.filter((f): f is TrajectoryFindings => f !== null);
  if (ok.length === 0) return null;
  return {
    seeds: ok.length,
    cyclicalBetter: {
      ...count(ok.map((f) => f.cyclicalBetter.holds)),
      cyclical: summarize(ok.map((f) => f.cyclicalBetter.cyclical)),
      constant: summarize(ok.map((f) => f.cyclicalBetter.constant)),
    },
    averageBetter: {
      ...count(ok.map((f) => f.averageBetter.holds)),
      swaCyclical: summarize(ok.map((f) => f.averageBetter.cyclical.swa)),
      bestCyclical: summarize(ok.map((f) => f.averageBetter.cyclical.bestProposal)),
      swaConstant: summarize(ok.map((f) => f.averageBetter.constant.swa)),
      bestConstant: summarize(ok.map((f) => f.averageBetter.constant.bestProposal)),
    },
    constantFarther: {
      ...count(ok.map((f) => f.constantFarther.holds)),
      cyclical: summarize(ok.map((f) => f.constantFarther.cyclical)),
      constant: summarize(ok.map((f) => f.constantFarther.constant)),
    },
  };
};

const m = (s: Summary, scale = 100, digits = 2, unit = "%"): string =>
  s.mean === null ? "n/a" : `${(scale * s.mean).toFixed(digits)}${unit}`;

const overSeeds = (c: SeedCount, n: number): string =>
  `holds in ${c.holdsIn} of ${c.of} seeds${c.of < n ? ` (${n - c.of} with one proposal per rate, not measurable)` : ""}`;

/** The aggregate's finding lines for section 3.1 (means over seeds). */
export const aggregateTrajectoryLines = (a: TrajectoryAggregate): string[] => [
  `Section 3.1, proposals better under the cyclical rate: mean proposal test error ${m(a.cyclicalBetter.cyclical)} (cyclical) vs ${m(a.cyclicalBetter.constant)} (constant), means over seeds; ${overSeeds(a.cyclicalBetter, a.seeds)}.`,
  `Section 3.1, the average better than every proposal: SWA ${m(a.averageBetter.swaCyclical)} vs best proposal ${m(a.averageBetter.bestCyclical)} (cyclical), SWA ${m(a.averageBetter.swaConstant)} vs best proposal ${m(a.averageBetter.bestConstant)} (constant), means over seeds; ${overSeeds(a.averageBetter, a.seeds)}.`,
  `Section 3.1, the constant rate explores farther: spread of the proposals ${m(a.constantFarther.constant, 1, 3, "")} (constant) vs ${m(a.constantFarther.cyclical, 1, 3, "")} (cyclical), means over seeds; ${overSeeds(a.constantFarther, a.seeds)}.`,
];
