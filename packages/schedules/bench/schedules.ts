// Cost of evaluating schedules per step, as ratios against an inline sawtooth closure with no
// checks (the baseline, timed in the same process). Run: pnpm bench (in packages/schedules)
import { performance } from "node:perf_hooks";
import {
  cosine,
  cyclical,
  fromSpec,
  join,
  type Schedule,
  swalr,
  toSvg,
  values,
  warmup,
} from "../src/index.js";

const N = 2_000_000;
const [high, low, c] = [0.05, 0.001, 390];

const time = (f: (step: number) => number): number => {
  let sink = 0;
  for (let s = 0; s < 10_000; s++) sink += f(s); // warm up
  const t0 = performance.now();
  for (let s = 0; s < N; s++) sink += f(s);
  const ms = performance.now() - t0;
  if (Number.isNaN(sink)) throw new Error("unexpected NaN");
  return (ms * 1e6) / N; // ns per step
};

const baseline = (s: number): number => {
  const t = ((s % c) + 1) / c;
  return (1 - t) * high + t * low;
};
const spec = fromSpec({
  type: "join",
  boundaries: [500, 10_500],
  schedules: [
    { type: "warmup", steps: 500, to: 0.1 },
    { type: "cosine", from: 0.1, to: 0.05, steps: 10_000 },
    { type: "cyclical", high, low, cycle: c },
  ],
});
if (spec._tag === "Left") throw spec.left;
const cases: Array<[string, Schedule]> = [
  ["cyclical", cyclical({ high, low, cycle: c })],
  ["swalr", swalr({ from: 0.1, to: 0.05, annealSteps: 10 })],
  [
    "join(warmup, cosine, cyclical)",
    join(
      [
        warmup({ steps: 500, to: 0.1 }),
        cosine({ from: 0.1, to: 0.05, steps: 10_000 }),
        cyclical({ high, low, cycle: c }),
      ],
      [500, 10_500],
    ),
  ],
  ["fromSpec(same join)", spec.right],
];

const base = time(baseline);
console.log(`baseline inline sawtooth: ${base.toFixed(2)} ns/step (${N} steps)`);
for (const [name, f] of cases) {
  const ns = time(f);
  console.log(`${name}: ${ns.toFixed(2)} ns/step, ${(ns / base).toFixed(2)}x baseline`);
}
const t0 = performance.now();
values(spec.right, 100_000);
const t1 = performance.now();
const svg = toSvg(spec.right, 100_000);
const t2 = performance.now();
console.log(
  `values(100k steps): ${(t1 - t0).toFixed(1)} ms; toSvg(100k steps): ${(t2 - t1).toFixed(1)} ms, ${svg.length} bytes`,
);
