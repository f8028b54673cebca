/**
 * SWAP's phase 3 (see `swap.ts`): the members' average with BatchNorm re-estimated on one pass of
 * the run's training data, and each member as it finished, scored on the whole test split as the
 * run scores SGD and SWA.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { updateBatchNorm } from "@wider/averaging";
import {
  assignToModel,
  disposeWeights,
  fromModel,
  loadWeights,
  type Weights,
} from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { AppError } from "./AppError.js";
import { chooseBackend } from "./backend.js";
import { bnBatches } from "./batches.js";
import type { Config } from "./config.js";
import { type AppDataset, loadAppDataset, ranges } from "./dataset.js";
import { type MethodScores, scoreWeights } from "./evaluate.js";
import { buildAppModel, hasBatchNorm } from "./models.js";

/** Test scores of the SWAP average and of each member (plain JSON). */
export interface SwapEvaluation {
  readonly swap: MethodScores;
  readonly members: readonly MethodScores[];
  readonly backend: string;
}

/**
 * Phase 3's evaluation: `mean` (the members' average) with BatchNorm re-estimated on one pass of
 * the run's training data (as the run re-estimates SWA), and each member as it finished, scored on
 * the whole test split. Owns nothing it is given; frees all it makes.
 */
export const evaluateSwap = async (
  config: Config,
  mean: Weights,
  memberDirs: readonly string[],
): Promise<SwapEvaluation> => {
  const backend = await chooseBackend(config.backend);
  const data: AppDataset = await loadAppDataset(config);
  const model = buildAppModel(
    config.model,
    { imageShape: data.imageShape, classes: data.classes },
    config.seed,
  );
  try {
    const testIdx = ranges(data.test.count, data.test.count)[0] ?? new Int32Array(0);
    const assigned = assignToModel(model, mean);
    if (E.isLeft(assigned))
      throw new AppError(
        `SWAP: the members' average does not fit the model: ${assigned.left.message}`,
        1,
      );
    if (hasBatchNorm(model))
      await updateBatchNorm(model, bnBatches(data, config, config.epochs), {
        disposeBatches: true,
      });
    const averaged = fromModel(model, { include: "all" });
    let swap: MethodScores;
    try {
      swap = scoreWeights(model, averaged, data, testIdx);
    } finally {
      disposeWeights(averaged);
    }
    const members: MethodScores[] = [];
    for (const dir of memberDirs) {
      const w = await loadWeights(dir);
      if (E.isLeft(w)) throw new AppError(`SWAP: cannot load ${dir}: ${w.left.message}`, 1);
      try {
        members.push(scoreWeights(model, w.right.weights, data, testIdx));
      } finally {
        disposeWeights(w.right.weights);
      }
    }
    return { swap, members, backend: backend.name };
  } finally {
    model.dispose();
    tf.disposeVariables();
  }
};
