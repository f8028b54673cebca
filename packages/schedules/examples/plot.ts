// Prints a cyclical (SWA) and a SWALR schedule as a table and writes an SVG plot of a whole SWA
// run. Run: `pnpm example` (in packages/schedules).
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  cyclical,
  fromSpec,
  isCycleEnd,
  join,
  type Schedule,
  swalr,
  swaReference,
  toSvg,
} from "../src/index.js";

const cycle = 5;
const cyc = cyclical({ high: 0.05, low: 0.001, cycle });
const anneal = swalr({ from: 0.1, to: 0.05, annealSteps: 4, strategy: "cos" });
const end = isCycleEnd(cycle);

console.log("step  cyclical(0.05 -> 0.001, c=5)  collect?  swalr(0.1 -> 0.05, 4 steps, cos)");
for (let s = 0; s < 12; s++)
  console.log(
    `${String(s).padStart(4)}  ${cyc(s).toFixed(6).padStart(28)}  ${(end(s) ? "yes" : "").padStart(8)}  ${anneal(s).toFixed(6).padStart(32)}`,
  );

// A whole run: the authors' SGD-then-SWA schedule for 30 epochs of 20 steps, then from a JSON spec
// (as a user would write it) the same run with a cyclical SWA phase.
const stepsPerEpoch = 20;
const authors = swaReference({ lrInit: 0.1, swaLr: 0.05, swaStart: 24, stepsPerEpoch });
const spec = {
  type: "join",
  boundaries: [24 * stepsPerEpoch],
  schedules: [
    { type: "swaReference", lrInit: 0.1, swaLr: 0.05, swaStart: 24, stepsPerEpoch },
    { type: "cyclical", high: 0.05, low: 0.001, cycle: 2 * stepsPerEpoch },
  ],
};
const parsed = fromSpec(spec);
if (parsed._tag === "Left") throw parsed.left;
const withCycles = parsed.right;

const outDir = fileURLToPath(new URL("../out/", import.meta.url));
mkdirSync(outDir, { recursive: true });
const steps = 30 * stepsPerEpoch;
const files: Array<[string, Schedule, string]> = [
  ["swa-reference.svg", authors, "Authors' SWA schedule (lrInit 0.1, swaLr 0.05, swaStart 24)"],
  ["swa-cyclical.svg", withCycles, "SGD then cyclical SWA phase (0.05 -> 0.001, c = 40)"],
  ["swalr.svg", join([authors, anneal], [20 * stepsPerEpoch]), "SGD then SWALR (cos, 4 steps)"],
];
for (const [name, schedule, title] of files) {
  const path = `${outDir}${name}`;
  writeFileSync(path, toSvg(schedule, steps, { title }));
  console.log(`wrote ${path}`);
}
