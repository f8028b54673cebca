/**
 * The run checkpoint's bookkeeping during training: replacing and dropping named weight groups and
 * training states (disposing what they replace), freeing a whole checkpoint, and opening the
 * checkpoint a run starts from (a fresh one, or the stored one on `--resume`).
 *
 * @module
 */
import {
  branch,
  disposeOptState,
  disposeTrainingState,
  initLoop,
  type Optimizer,
  type TrainingState,
} from "@wider/training";
import { disposeWeights, type Weights } from "@wider/weights";
import { AppError } from "./AppError.js";
import { type Checkpoint, loadCheckpoint, type TrainState } from "./checkpoint.js";
import { trainingDifferences } from "./configFields.js";
import type { TrainContext } from "./training.js";

/** Puts `w` under `name`, disposing the weights it replaces. */
export const setGroup = (groups: Record<string, Weights>, name: string, w: Weights): void => {
  const old = groups[name];
  groups[name] = w;
  if (old !== undefined && old !== w) disposeWeights(old);
};

/** Puts `s` under `name`, disposing the training state it replaces. */
export const setState = (states: Record<string, TrainingState>, name: string, s: TrainingState) => {
  const old = states[name];
  states[name] = s;
  if (old !== undefined && old !== s) disposeTrainingState(old);
};

/** Removes and disposes the training state under `name`. */
export const dropState = (states: Record<string, TrainingState>, name: string): void => {
  const old = states[name];
  delete states[name];
  if (old !== undefined) disposeTrainingState(old);
};

/** Removes and disposes the weight groups under `names`. */
export const dropGroups = (groups: Record<string, Weights>, names: readonly string[]): void => {
  for (const name of names) {
    const w = groups[name];
    delete groups[name];
    if (w !== undefined) disposeWeights(w);
  }
};

/** Disposes every state and weight group of a checkpoint. */
export const freeCheckpoint = (c: Checkpoint): void => {
  for (const s of Object.values(c.states)) disposeTrainingState(s);
  for (const g of Object.values(c.groups)) disposeWeights(g);
};

/**
 * The checkpoint a run starts from: on `resume` the stored one (its training configuration must
 * match), else a fresh one holding the initial point.
 */
export const openCheckpoint = async (
  ctx: TrainContext,
  resume: boolean,
  optimizer: Optimizer,
): Promise<Checkpoint> => {
  const { config, model, progress } = ctx;
  let ck: Checkpoint;
  if (resume) {
    ck = await loadCheckpoint(ctx.checkpointDir);
    if (trainingDifferences(ck.state.config, config).length > 0) {
      freeCheckpoint(ck);
      throw new AppError(
        `--resume: the run in ${config.out} was started with a different training configuration; resume it without changing training flags`,
      );
    }
    progress.log(
      ck.state.track === "done"
        ? "resuming from the checkpoint: training finished; evaluating"
        : `resuming from the checkpoint: ${ck.state.track} at step ${ck.states.live?.step ?? "start"}`,
    );
  } else {
    const init = initLoop(model, optimizer);
    const state: TrainState = {
      version: 2,
      config,
      track: "sgd",
      history: [],
      swaSteps: [],
      swagSteps: [],
      fgeSteps: [],
      swaAtBudget: null,
      seconds: {},
    };
    ck = { state, states: { init: branch(model, init) }, groups: {} };
    disposeOptState(init.opt);
  }
  return ck;
};
