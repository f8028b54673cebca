/**
 * The benchmark's settings: the full run (`pnpm bench`) and the smoke run CI uses (`--smoke`).
 *
 * @module
 */

/** Sizes and time budgets of one benchmark run; the PyTorch peer gets the same. */
export interface BenchConfig {
  /** "full" or "smoke". */
  readonly mode: "full" | "smoke";
  /** Mini-batch size of training steps and of the BatchNorm pass. */
  readonly batch: number;
  /** Seconds of timed training per model on wasm (and MLP on cpu). */
  readonly seconds: number;
  /** Seconds of timed training for the CNN on PyTorch. */
  readonly cnnSeconds: number;
  /** Timed training steps of the CNN on the cpu backend (~15 s each at batch 32). */
  readonly cpuCnnSteps: number;
  /** Untimed warm-up steps before them (the first step carries one-time costs of ~2 s). */
  readonly cpuCnnWarmup: number;
  /** Mini-batch size of the CNN's steps on the cpu backend (its figure is samples/s all the same). */
  readonly cpuCnnBatch: number;
  /** Seconds per update / BatchNorm / FGE measurement. */
  readonly updateSeconds: number;
  /** Samples in the BatchNorm re-estimation pass. */
  readonly bnSamples: number;
  /** Samples predicted by the FGE ensemble. */
  readonly fgeSamples: number;
  /** Members of the FGE ensemble. */
  readonly fgeMembers: number;
  /** Rows per forward pass when predicting. */
  readonly predictBatch: number;
  /** PyTorch intra-op threads (the JS backends here run on one thread). */
  readonly threads: number;
  /** Timed steps per round of the workers section's throughput rows. */
  readonly workerSteps: { readonly mlp: number; readonly cnn: number };
  /** Alternated rounds of the workers section (its figures are the medians). */
  readonly workerRounds: number;
  /** Untimed rounds before them (fresh workers' JavaScript and wasm reach their optimised tiers). */
  readonly workerWarmupRounds: number;
  /** Milliseconds each thread runs each machine probe (memory-bound and arithmetic loops, 1 and 2 threads). */
  readonly machineProbeMs: number;
  /** Steps of the leak check on 2 workers. */
  readonly leakSteps: number;
}

/** `pnpm bench`: the shapes of the issue (batch 128, 10,000 samples, 5 members). */
export const fullConfig: BenchConfig = {
  mode: "full",
  batch: 128,
  seconds: 8,
  cnnSeconds: 8,
  cpuCnnSteps: 2,
  cpuCnnWarmup: 1,
  cpuCnnBatch: 32,
  updateSeconds: 2,
  bnSamples: 10_000,
  fgeSamples: 10_000,
  fgeMembers: 5,
  predictBatch: 256,
  threads: 1,
  workerSteps: { mlp: 80, cnn: 24 },
  workerRounds: 5,
  workerWarmupRounds: 3,
  machineProbeMs: 1500,
  leakSteps: 1000,
};

/** `--smoke`: a few steps of everything on small shapes, for CI (seconds, not minutes). */
export const smokeConfig: BenchConfig = {
  mode: "smoke",
  batch: 8,
  seconds: 0.2,
  cnnSeconds: 0.2,
  cpuCnnSteps: 1,
  cpuCnnWarmup: 0,
  cpuCnnBatch: 2,
  updateSeconds: 0.05,
  bnSamples: 64,
  fgeSamples: 64,
  fgeMembers: 2,
  predictBatch: 32,
  threads: 1,
  workerSteps: { mlp: 3, cnn: 2 },
  workerRounds: 1,
  workerWarmupRounds: 1,
  machineProbeMs: 150,
  leakSteps: 20,
};
