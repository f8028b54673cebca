/**
 * MultiSWAG (Wilson and Izmailov 2020) over the seeds of a multi-seed run: the SWAG states the
 * seeds' SWA runs collected (kept in their final checkpoints) are combined by `@wider/swag`'s
 * `bayesianModelAverage`, `swagSamples` samples split evenly over the M seeds, and scored on the
 * test images like every other method (accuracy, NLL, ECE, Brier, reliability bins).
 *
 * @module
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { SwagState } from "@wider/swag";
import { disposeSwagState } from "@wider/swag";
import { disposeTrainingState } from "@wider/training";
import { disposeWeights } from "@wider/weights";
import { chooseBackend } from "./backend.js";
import { bnBatches } from "./batches.js";
import { loadCheckpoint } from "./checkpoint.js";
import type { Config } from "./config.js";
import { loadAppDataset, ranges } from "./dataset.js";
import { type MethodScores, scoreSwag } from "./evaluate.js";
import { buildAppModel, hasBatchNorm } from "./models.js";
import { checkpointDir } from "./runChecks.js";
import { swagFromGroups } from "./swagGroups.js";

/** `multiswag.json`: MultiSWAG's scores over the seeds' SWAG states. */
export interface MultiSwagResult extends MethodScores {
  readonly members: number;
  readonly samples: number;
  readonly rank: number;
}

/** Reads the SWAG state a finished run left in its checkpoint; the caller owns it. */
const swagOf = async (out: string, rank: number): Promise<SwagState> => {
  const ck = await loadCheckpoint(checkpointDir(out));
  const state = swagFromGroups(ck.groups, ck.state.swagSteps.length, rank, true);
  for (const s of Object.values(ck.states)) disposeTrainingState(s);
  for (const g of Object.values(ck.groups)) disposeWeights(g);
  return state;
};

/**
 * MultiSWAG of the seeds' runs (`configs[i].out` finished), or null when SWAG is off or there are
 * fewer than two seeds. Evaluated on the first seed's data and model (the test images are the
 * same for every seed; BatchNorm is re-estimated per sample on the first seed's training images).
 */
export const multiSwag = async (configs: readonly Config[]): Promise<MultiSwagResult | null> => {
  const first = configs[0];
  if (first === undefined || configs.length < 2 || first.swagRank === 0) return null;
  await chooseBackend(first.backend);
  const data = await loadAppDataset(first);
  const model = buildAppModel(
    first.model,
    { imageShape: data.imageShape, classes: data.classes },
    first.seed,
  );
  const states: SwagState[] = [];
  try {
    for (const c of configs) states.push(await swagOf(c.out, c.swagRank));
    if (states.some((s) => s.n === 0)) return null;
    const testIdx = ranges(data.test.count, data.test.count)[0] ?? new Int32Array(0);
    const scores = await scoreSwag(model, states, data, testIdx, {
      samples: Math.max(first.swagSamples, states.length),
      scale: first.swagScale,
      seed: first.seed,
      bn: hasBatchNorm(model) ? () => bnBatches(data, first, first.epochs) : null,
    });
    return {
      ...scores,
      members: states.length,
      samples: Math.max(first.swagSamples, states.length),
      rank: first.swagRank,
    };
  } finally {
    for (const s of states) disposeSwagState(s);
    model.dispose();
    tf.disposeVariables();
  }
};

/** Where the multi-seed run keeps it. */
export const multiSwagFile = (out: string): string => join(out, "multiswag.json");
