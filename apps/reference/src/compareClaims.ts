/**
 * The claims list of the Wider-vs-twin comparison (issue 14): the paper's claims that both sides
 * measure (accuracy and NLL of SGD, SWA and FGE), each stated for Wider and for the twin with the
 * paired difference over seeds, a paired t-test and a verdict at this scale. Geometry claims
 * (width, the segment) are Wider's alone and stay in the experiment section.
 *
 * @module
 */
import type { Side } from "./compareRead.js";
import { pairedDifference, studentTwoSided } from "./stats.js";

/** One claim on one side: the paired difference's mean ± std, p, and the verdict. */
export interface ClaimSide {
  readonly mean: number | null;
  readonly std: number | null;
  readonly p: number | null;
  readonly n: number;
  readonly holds: boolean | null;
}

/** A claim of the paper as measured by both sides. */
export interface Claim {
  readonly text: string;
  readonly wider: ClaimSide;
  readonly twin: ClaimSide;
  /**
   * Two-sided Welch t-test p of "the two sides' mean paired differences are equal" (null when a
   * side has fewer than 2 seeds): a verdict that differs while this is >= 0.05 is a claim at the
   * edge of significance, not a disagreement between the sides.
   */
  readonly effectsDifferP: number | null;
}

/** Welch's two-sided p for equal means of two samples given as mean, std and size. */
export const welchP = (a: ClaimSide, b: ClaimSide): number | null => {
  if (a.mean === null || b.mean === null || a.std === null || b.std === null) return null;
  if (a.n < 2 || b.n < 2) return null;
  const va = (a.std * a.std) / a.n;
  const vb = (b.std * b.std) / b.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return a.mean === b.mean ? 1 : 0;
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return studentTwoSided((a.mean - b.mean) / se, df);
};

interface ClaimDef {
  readonly text: string;
  readonly a: string;
  readonly b: string;
  readonly metric: "accuracy" | "nll";
  /** Holds when the mean difference a − b satisfies this (and, for "beats", p < 0.05). */
  readonly test: (mean: number, p: number | null) => boolean;
}

const significant = (p: number | null): boolean => p !== null && p < 0.05;

/** The claims both sides can test. */
const claims: readonly ClaimDef[] = [
  {
    text: 'SWA beats SGD at equal budget (test accuracy; "holds": higher and p < 0.05)',
    a: "swa",
    b: "sgd",
    metric: "accuracy",
    test: (m, p) => m > 0 && significant(p),
  },
  {
    text: 'SWA improves NLL over SGD ("holds": lower and p < 0.05)',
    a: "swa",
    b: "sgd",
    metric: "nll",
    test: (m, p) => m < 0 && significant(p),
  },
  {
    text: 'SWA matches FGE with one model ("holds": FGE at most 0.3 points above SWA)',
    a: "fge",
    b: "swa",
    metric: "accuracy",
    test: (m) => m <= 0.003,
  },
  {
    text: 'A longer SWA run (1.25 budgets) improves on SWA at 1 budget ("holds": higher and p < 0.05)',
    a: "swaExtended",
    b: "swa",
    metric: "accuracy",
    test: (m, p) => m > 0 && significant(p),
  },
];

const sideOf = (side: Side, def: ClaimDef): ClaimSide | null => {
  const a = side.values[def.a]?.[def.metric];
  const b = side.values[def.b]?.[def.metric];
  if (a === undefined || b === undefined) return null;
  const d = pairedDifference(a, b);
  return {
    mean: d.mean,
    std: d.std,
    p: d.p,
    n: d.n,
    holds: d.mean === null ? null : def.test(d.mean, d.p),
  };
};

/** The claims both sides measured (a claim a side lacks a method for is left out). */
export const compareClaims = (wider: Side, twin: Side): Claim[] =>
  claims.flatMap((def) => {
    const w = sideOf(wider, def);
    const t = sideOf(twin, def);
    return w === null || t === null
      ? []
      : [{ text: def.text, wider: w, twin: t, effectsDifferP: welchP(w, t) }];
  });

const show = (s: ClaimSide, metric: "accuracy" | "nll"): string => {
  if (s.mean === null) return "not measured";
  const scale = metric === "accuracy" ? 100 : 1;
  const digits = metric === "accuracy" ? 2 : 4;
  const unit = metric === "accuracy" ? " points" : "";
  const verdict = s.holds === null ? "not measured" : s.holds ? "holds" : "does NOT hold";
  return `${verdict} (${s.mean >= 0 ? "+" : ""}${(scale * s.mean).toFixed(digits)}${s.std === null ? "" : ` ± ${(scale * s.std).toFixed(digits)}`}${unit}, ${s.n} seeds${s.p === null ? "" : `, p = ${s.p.toPrecision(2)}`})`;
};

/** The claims as Markdown list lines. */
export const claimLines = (wider: Side, twin: Side): string[] =>
  compareClaims(wider, twin).map((c) => {
    const metric = c.text.includes("NLL") ? "nll" : "accuracy";
    const p = c.effectsDifferP;
    const agree =
      c.wider.holds === c.twin.holds
        ? "Wider and the twin agree"
        : p !== null && p >= 0.05
          ? `The verdicts differ but the two effects do not (Welch p = ${p.toPrecision(2)}): the claim is at the edge of significance with these seeds, not a disagreement between the sides`
          : `Wider and the twin DISAGREE on this claim (the two effects differ${p === null ? "" : `, Welch p = ${p.toPrecision(2)}`}): to be explained before the experiment is called done`;
    return `- ${c.text}: Wider ${show(c.wider, metric)}; twin ${show(c.twin, metric)}. ${agree}.`;
  });
