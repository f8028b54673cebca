/**
 * What one run shows of the paper's effects, stated from its own numbers (issue 14: "the default
 * run should show, in its report, whichever of the paper's effects are visible at its small scale
 * (say which), and state its scale honestly"). One seed gives no test of significance: each line
 * says so, and points at `--seeds` for one.
 *
 * @module
 */
import type { Report } from "./report.js";

/** One effect of the paper, with the run's numbers and whether it is visible in this run. */
export interface RunFinding {
  readonly claim: string;
  /** `true`: visible in this run; `false`: not; `null`: not measured in this run. */
  readonly visible: boolean | null;
  readonly numbers: string;
}

const pts = (x: number): string => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(2)}`;

/** The paper's scale beside this run's, as one sentence. */
export const scaleStatement = (r: Report): string => {
  const c = r.config;
  const subset = r.dataset.trainUsed < r.dataset.trainTotal;
  return `Scale: ${c.model} (${r.model.parameters.toLocaleString("en")} parameters) on ${r.dataset.trainUsed.toLocaleString("en")}${subset ? ` of ${r.dataset.trainTotal.toLocaleString("en")}` : ""} ${r.dataset.name} training images for ${c.epochs} epochs, one seed. The paper trains VGG-16, PreResNet and WideResNet (millions of parameters) on CIFAR-10/100 for 150 to 300 epochs over several seeds; effects of a few tenths of a point there can be within one seed's noise here.`;
};

/** The paper's effects as seen in this run (SWA vs SGD, FGE vs SWA, width, section 3.1). */
export const runFindings = (r: Report): RunFinding[] => {
  const res = r.results;
  const out: RunFinding[] = [];
  const dAcc = res.swa.accuracy - res.sgd.accuracy;
  const dNll = res.swa.nll - res.sgd.nll;
  out.push({
    claim: "SWA generalises better than SGD at the same budget",
    visible: dAcc > 0,
    numbers: `SWA − SGD: test accuracy ${pts(dAcc)} points, NLL ${dNll >= 0 ? "+" : ""}${dNll.toFixed(4)}`,
  });
  const dFge = res.fge.accuracy - res.swa.accuracy;
  out.push({
    claim: "SWA comes close to the FGE ensemble with one model",
    visible: dFge <= 0.003,
    numbers: `FGE − SWA: test accuracy ${pts(dFge)} points (${res.fge.members} snapshots; "close": within 0.3 points)`,
  });
  const g = r.geometry.rays;
  const ws = g.widthSwa?.median;
  const wg = g.widthSgd?.median;
  const plan = r.geometry.segment?.plan;
  const distance = plan?.kind === "segment" ? plan.length : undefined;
  out.push(
    ws === undefined || wg === undefined || ws === null || wg === null
      ? {
          claim: "SWA finds a wider solution than SGD",
          visible: null,
          numbers:
            g.sgd.length === 0
              ? "no rays in this run (--rays 0)"
              : "a median width is beyond the rays' reach; lengthen --ray-distance",
        }
      : {
          claim: "SWA finds a wider solution than SGD",
          visible: ws > wg,
          numbers: `median width SWA ${ws.toFixed(2)} vs SGD ${wg.toFixed(2)}${distance === undefined ? "" : `; the two solutions are ${distance.toFixed(2)} apart`}`,
        },
  );
  const t = r.trajectory;
  if (t !== null) {
    const a = t.findings.averageBetter;
    out.push({
      claim: "The SWA average is better than every model it averages (section 3.1)",
      visible: a.holds,
      numbers: `test error: SWA ${(100 * a.cyclical.swa).toFixed(2)}% vs the best proposal ${(100 * a.cyclical.bestProposal).toFixed(2)}% (cyclical rate)`,
    });
  }
  return out;
};

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The findings as an HTML section for `report.html`. */
export const findingsHtml = (r: Report): string => {
  const rows = runFindings(r)
    .map(
      (f) =>
        `<tr><th>${esc(f.claim)}</th><td>${f.visible === null ? "not measured" : f.visible ? "visible here" : "not visible here"}</td><td>${esc(f.numbers)}</td></tr>`,
    )
    .join("\n");
  return `<h2>The paper's effects in this run</h2>
<p>${esc(scaleStatement(r))} For paired differences with a t-test, run several seeds: <code>wider --seeds 0,1,2</code>.</p>
<table id="findings"><tr><th>effect (Izmailov et al. 2018)</th><th>in this run</th><th>numbers</th></tr>
${rows}
</table>`;
};
