/**
 * Sizes checked before a run starts: what the run will hold and write, estimated from the model's
 * parameter count and the numbers of weight sets and geometry points it keeps, against what this
 * machine and process can hold. A run that would die of a full heap after training its whole
 * budget is refused up front instead, with the limit and the estimate on one line.
 *
 * The per-point figures were measured on this project's machine (Node 20, `@wider/geometry`,
 * `--expose-gc`, heap deltas over 1,600 to 100,000 points): a point's results held in memory take
 * 530 to 630 bytes of heap, its part of `report.json` about 470 bytes, and rendering a plane's
 * contour plot a transient 1.6 to 4.7 kB per point; {@link heapBytesPerPoint} rounds their sum up.
 *
 * @module
 */
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";

/** Heap bytes per geometry point: results held, `report.json`, plots (measured, rounded up). */
export const heapBytesPerPoint = 8 * 1024;
/** Heap bytes per epoch record (history in memory, checkpoint metadata, report), rounded up. */
export const heapBytesPerEpoch = 2 * 1024;
/** Bytes of a geometry point's entry in its result file (measured about 300, rounded up). */
export const resultFileBytesPerPoint = 320;
/**
 * The most a run may rewrite into its geometry result files: each plan's file is rewritten after
 * every point (so that an interrupted run resumes there), `n(n+1)/2` entries for `n` points.
 */
export const resultRewriteLimit = 32 * 2 ** 30;
/** The wasm backend's heap cannot grow past 4 GiB (`getHeapMax` of tfjs-backend-wasm 4.22). */
export const wasmHeapLimit = 4294901760;
/** Share of the machine's memory a run may plan to use (the rest: the OS, other processes). */
export const machineShare = 0.75;

/** What the machine and process offer, as measured by the caller. */
export interface Capacity {
  /** Memory this process may still take (machine or cgroup limit times {@link machineShare}, less its RSS). */
  readonly memory: number;
  /** Where `memory` comes from, for the message. */
  readonly memoryWhat: string;
  /** V8 heap this process may still take (heap size limit less the heap in use). */
  readonly heap: number;
  /** Free bytes on the output directory's file system (null: unknown). */
  readonly disk: number | null;
}

/** The sizes a run needs. */
export interface Estimate {
  /** Geometry points in all, and in the largest plan. */
  readonly points: number;
  readonly largestPlan: number;
  /** FGE snapshots the run keeps. */
  readonly fgeSnapshots: number;
  /** Proposals the trajectory analysis keeps per rate (0 when it is off). */
  readonly trajectoryProposals: number;
  /** Weight sets held at the peak (training: groups, their copies while saving, live state). */
  readonly weightSets: number;
  /** {@link weightSets} were the trajectory analysis off (to name it when it alone does not fit). */
  readonly weightSetsWithoutTrajectory: number;
  /** Bytes of tensors and their copies at the peak. */
  readonly tensorBytes: number;
  /** V8 heap bytes for the geometry results, history and report. */
  readonly heapBytes: number;
  /** Bytes of the checkpoint on disk while it is replaced (old and new blob). */
  readonly diskBytes: number;
  /** Bytes rewritten into the geometry result files over the run. */
  readonly rewriteBytes: number;
}

/** Points on each ray: `rayPoints` rounded up to odd. */
const perRay = (c: Config): number => 2 * Math.floor(c.rayPoints / 2) + 1;

/**
 * FGE snapshots of a run: phase steps `s < (epochs - swaStart) * spe` with `s % cycle === cycle/2`,
 * the cycle being `fgeCycle` epochs rounded to an even number of steps (as `makeSchedules`).
 */
export const fgeSnapshotCount = (c: Config, stepsPerEpoch: number): number => {
  // The FGE track runs global steps [swaStart, epochs) * spe; its cycles start at swaStart.
  const steps = (c.epochs - c.swaStart) * stepsPerEpoch;
  const cycle = Math.max(2, 2 * Math.floor((c.fgeCycle * stepsPerEpoch) / 2));
  const mid = cycle / 2;
  return steps > mid ? Math.floor((steps - 1 - mid) / cycle) + 1 : 0;
};

/**
 * Proposals the trajectory analysis collects per rate: one at the end of every `swaEvery`-th
 * epoch after `swaStart` up to the budget (0 with `trajectoryGrid` 0).
 */
export const trajectoryProposalCount = (c: Config): number =>
  c.trajectoryGrid === 0 ? 0 : Math.floor((c.epochs - c.swaStart) / c.swaEvery);

/** The sizes a run with `config` needs, for a model of `parameters` weights. */
export const estimateRun = (c: Config, parameters: number, stepsPerEpoch: number): Estimate => {
  const rays = 2 * c.rays * perRay(c);
  const plane = c.planeGrid >= 2 ? c.planeGrid ** 2 : 0;
  const trajectoryPlane = c.trajectoryGrid >= 2 ? c.trajectoryGrid ** 2 : 0;
  const points = rays + c.segmentPoints + plane + trajectoryPlane;
  const largestPlan = Math.max(c.rays > 0 ? perRay(c) : 0, c.segmentPoints, plane, trajectoryPlane);
  const proposals = trajectoryProposalCount(c);
  const fge = fgeSnapshotCount(c, stepsPerEpoch);
  // Groups kept in the checkpoint: the live, pretrained and initial states (weights and momentum
  // each), swaMean, swaBudgetMean, sgdFinal, swaFinal, swaExtendedFinal, the SWAG moments (mean,
  // square mean, K deviations) and the FGE snapshots; while saving, each is also read out and
  // copied into the blob (three copies); live: the model, its momentum and the running SWA mean.
  const groups = 11 + (c.swagRank > 0 ? 2 + c.swagRank : 0) + fge;
  // After training, the analyses hold the trained solutions (pretrained weights and state, SGD,
  // SWA, extended SWA, SWAG moments, FGE snapshots) and, in the trajectory analysis, both rates'
  // proposals, their running average and its BN-re-estimated copy, and the plane's three anchors.
  const held = 6 + (c.swagRank > 0 ? 2 + c.swagRank : 0) + fge;
  const weightSets = Math.max(3 + 3 * groups, held + (proposals > 0 ? 2 * proposals + 7 : 0));
  const setBytes = 4 * parameters;
  const epochRecords = c.epochs + 2 * (c.epochs - c.swaStart) + c.swaExtend;
  const rewriteRays = 2 * c.rays * ((perRay(c) * (perRay(c) + 1)) / 2);
  const rewrite = (n: number) => (n * (n + 1)) / 2;
  return {
    points,
    largestPlan,
    fgeSnapshots: fge,
    trajectoryProposals: proposals,
    weightSets,
    weightSetsWithoutTrajectory: Math.max(3 + 3 * groups, held),
    tensorBytes: weightSets * setBytes,
    heapBytes: points * heapBytesPerPoint + epochRecords * heapBytesPerEpoch,
    diskBytes: 2 * groups * setBytes,
    rewriteBytes:
      (rewriteRays + rewrite(c.segmentPoints) + rewrite(plane) + rewrite(trajectoryPlane)) *
      resultFileBytesPerPoint,
  };
};

/** `1.5 GiB`, `300 MiB`, `2.1e+04 TiB`. */
export const bytes = (n: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"] as const;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const s = v >= 1e4 ? v.toExponential(1) : v >= 100 ? v.toFixed(0) : v.toFixed(1);
  return `${s} ${units[u]}`;
};

/** The flags that drive the geometry's size, largest first. */
const geometryCulprits = (c: Config): string => {
  const parts: Array<[number, string]> = [
    [c.planeGrid >= 2 ? c.planeGrid ** 2 : 0, `--plane-grid ${c.planeGrid}`],
    [c.trajectoryGrid >= 2 ? c.trajectoryGrid ** 2 : 0, `--trajectory-grid ${c.trajectoryGrid}`],
    [c.segmentPoints, `--segment-points ${c.segmentPoints}`],
    [2 * c.rays * perRay(c), `--rays ${c.rays} --ray-points ${c.rayPoints}`],
  ];
  parts.sort((a, b) => b[0] - a[0]);
  return parts[0]?.[1] ?? "";
};

/**
 * Refuses a run that needs more than the machine offers: one line with the culprit flags, the
 * estimate and the limit (exit 2: the fix is a smaller setting).
 */
export const checkLimits = (c: Config, e: Estimate, cap: Capacity): void => {
  const fix = "lower it, or skip that part with 0";
  if (e.heapBytes > cap.heap)
    throw new AppError(
      `${geometryCulprits(c)}: the run would hold ${e.points.toExponential(2)} geometry points, about ${bytes(e.heapBytes)} of JavaScript heap, but this process can take ${bytes(cap.heap)} more (V8 heap limit); ${fix}`,
    );
  if (e.rewriteBytes > resultRewriteLimit)
    throw new AppError(
      `${geometryCulprits(c)}: the geometry would rewrite its result files ${bytes(e.rewriteBytes)} in all (each plan's file after every point, ${e.largestPlan} points in the largest plan), over the limit of ${bytes(resultRewriteLimit)}; ${fix}`,
    );
  const tensorWhat = `${e.weightSets} weight sets of ${bytes(e.tensorBytes / e.weightSets)} (${e.fgeSnapshots} FGE snapshots${e.trajectoryProposals > 0 ? `, 2 x ${e.trajectoryProposals} trajectory proposals` : ""})`;
  if (e.tensorBytes > cap.memory && e.trajectoryProposals > 0) {
    // Would the run fit without the trajectory analysis? Then that analysis is the culprit.
    if (e.weightSetsWithoutTrajectory * (e.tensorBytes / e.weightSets) <= cap.memory)
      throw new AppError(
        `--trajectory-grid ${c.trajectoryGrid} --swa-every ${c.swaEvery} --model ${c.model}: the trajectory analysis would hold ${tensorWhat}, about ${bytes(e.tensorBytes)}, but ${cap.memoryWhat} leaves ${bytes(cap.memory)}; keep fewer proposals (a longer --swa-every), use a smaller model, or turn the analysis off with --trajectory-grid 0`,
      );
  }
  if (e.tensorBytes > cap.memory)
    throw new AppError(
      `--epochs ${c.epochs} --fge-cycle ${c.fgeCycle} --model ${c.model}: the run would hold ${tensorWhat}, about ${bytes(e.tensorBytes)}, but ${cap.memoryWhat} leaves ${bytes(cap.memory)}; use fewer epochs after --swa-start, a longer --fge-cycle or a smaller model`,
    );
  if (cap.disk !== null && e.diskBytes > cap.disk)
    throw new AppError(
      `--out ${c.out}: the checkpoint would need about ${bytes(e.diskBytes)} while it is replaced (${7 + e.fgeSnapshots} weight sets, twice), but its file system has ${bytes(cap.disk)} free; free space, choose another --out, or keep fewer FGE snapshots (a longer --fge-cycle)`,
      1,
    );
};
