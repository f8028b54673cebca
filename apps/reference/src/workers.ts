/**
 * `--workers N`: the training loop of a run, in this thread (`@wider/training`'s `runSteps`, N = 1)
 * or data-parallel on N worker threads (`@wider/parallel`'s runner: each replica computes the
 * gradient of its slice of every batch on its own backend, the gradients are summed through shared
 * memory, every replica applies the same update). Both take and return the same loop state, so
 * hooks (SWA and SWAG collection, FGE snapshots, checkpoints, progress) see the same steps, and a
 * checkpoint holds the main thread's weights and optimizer state either way.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { isParallelError, type ParallelRunner, parallelRunner } from "@wider/parallel";
import { nodeTransport } from "@wider/parallel/node";
import { type Hook, type RunResult, type RunStepsOptions, runSteps } from "@wider/training";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";
import type { ModelShape } from "./models.js";

/** The training loop of a run: `runSteps`' contract, on this thread or on worker threads. */
export interface Stepper {
  /** Threads that compute gradients (1: this one). */
  readonly workers: number;
  /** As `@wider/training`'s `runSteps`; a failed worker is an {@link AppError} (exit 1). */
  readonly runSteps: (options: RunStepsOptions) => Promise<RunResult>;
  /** Stops the workers (idempotent; nothing to stop with one). */
  readonly close: () => Promise<void>;
}

/** The line `--workers` adds to a run's log, or null for one worker. */
export const workersNote = (workers: number, cores = availableParallelism()): string | null =>
  workers === 1
    ? null
    : `workers: ${workers} threads train the model data-parallel (${cores} cores${workers > cores ? `; more workers than cores: the replicas wait for each other at every step, expect slower training than --workers ${cores}` : ""})`;

/**
 * Hooks that remember the first error one of them throws: the runner reports every failure as a
 * `ParallelError`, and the app's own errors (a non-finite loss, a full disk) must keep their message
 * and exit code.
 */
const watched = (hooks: readonly Hook[], seen: { error?: unknown }): Hook[] =>
  hooks.map((h) => {
    const guard =
      <I>(f: (info: I) => void | Promise<void>) =>
      async (info: I): Promise<void> => {
        try {
          await f(info);
        } catch (e) {
          seen.error ??= e;
          throw e;
        }
      };
    return {
      ...(h.onStep === undefined ? {} : { onStep: guard((i) => h.onStep?.(i)) }),
      ...(h.onEpoch === undefined ? {} : { onEpoch: guard((i) => h.onEpoch?.(i)) }),
      ...(h.readsModel === undefined ? {} : { readsModel: h.readsModel }),
    };
  });

/**
 * Starts the run's training loop for `config.workers`: with 1, `runSteps` in this thread; with
 * N > 1, N replicas of `config.model` on the active backend (wasm or cpu; their weights come from
 * the main model at every `runSteps`), with SGD as `config` sets it.
 *
 * @example
 * const stepper = await startStepper(config, { imageShape: [28, 28, 1], classes: 10 });
 * try { await stepper.runSteps(options); } finally { await stepper.close(); }
 */
export const startStepper = async (config: Config, shape: ModelShape): Promise<Stepper> => {
  if (config.workers === 1) return { workers: 1, runSteps, close: async () => {} };
  const backend = tf.getBackend();
  if (backend !== "wasm" && backend !== "cpu")
    throw new AppError(
      `--workers ${config.workers}: worker threads train on the wasm or cpu backend, and this run's backend is ${backend}; pass --backend wasm, or --workers 1 to train on ${backend}`,
    );
  let runner: ParallelRunner;
  try {
    runner = await parallelRunner({
      transport: nodeTransport(),
      workers: config.workers,
      backend,
      model: {
        spec: {
          kind: config.model,
          inputShape: [...shape.imageShape],
          classes: shape.classes,
          seed: config.seed,
        },
      },
      optimizer: { kind: "sgd", momentum: config.momentum, weightDecay: config.weightDecay },
    });
  } catch (e) {
    throw new AppError(
      `--workers ${config.workers}: ${e instanceof Error ? e.message : String(e)}; try --workers 1`,
      1,
    );
  }
  return {
    workers: runner.workers,
    runSteps: async (options) => {
      const seen: { error?: unknown } = {};
      try {
        return await runner.runSteps({ ...options, hooks: watched(options.hooks ?? [], seen) });
      } catch (e) {
        if (seen.error !== undefined) throw seen.error;
        if (isParallelError(e)) throw new AppError(`--workers ${config.workers}: ${e.message}`, 1);
        throw e;
      }
    },
    close: () => runner.close(),
  };
};
