/**
 * `@wider/training`: the training pipeline as pure, tested functions: PyTorch-exact optimizers
 * over `Weights`, losses, one training step, one step-driven loop with hooks, branching and
 * checkpoint/resume. On Node (the `node` export condition) this root entry is `./browser.js` plus
 * the checkpoint files of `@wider/training/node`; other platforms get `./browser.js` alone.
 *
 * Errors: programmer's mistakes throw a `WiderFailure` (`_tag: "TrainingError"`); checkpoint
 * files and `restore` return `Left<TrainingError>` (see the README's "Errors" section).
 *
 * The names below are those of `./browser.js` and `./node.js`, listed again (no `export *`).
 *
 * @packageDocumentation
 */

// run checkpoints
export type { RunCheckpoint } from "./checkpoint.js";
export {
  disposeRunCheckpoint,
  loadRunCheckpoint,
  RunCheckpointHeader,
  saveRunCheckpoint,
} from "./checkpoint.js";
// errors
export type { TrainingError } from "./errors.js";
export { fail, trainingError } from "./errors.js";
// the loop
export type {
  Batch,
  Batches,
  CollectOptions,
  Collector,
  EpochInfo,
  Hook,
  LoopState,
  RunResult,
  RunStepsOptions,
  StepInfo,
} from "./loop.js";
export { collect, hookCaller, readsModelAfter, runSteps } from "./loop.js";
// losses and the step
export type { CrossEntropyOptions, Loss } from "./loss.js";
export { softmaxCrossEntropy } from "./loss.js";
// optimizers
export type {
  AdamOptions,
  Optimizer,
  OptState,
  OptUpdate,
  SgdOptions,
} from "./optimizers.js";
export {
  adam,
  adamw,
  applyUpdates,
  cloneOptState,
  disposeOptState,
  sgd,
} from "./optimizers.js";
// training states
export type { TrainingState } from "./state.js";
export {
  branch,
  CheckpointHeader,
  cloneTrainingState,
  disposeTrainingState,
  initLoop,
  restore,
  stateTensors,
} from "./state.js";
// training states on disk
export type { CheckpointOptions } from "./stateFiles.js";
export { checkpointEveryEpoch, loadTrainingState, saveTrainingState } from "./stateFiles.js";
export type { StepResult, TrainStep } from "./step.js";
export { trainStep } from "./step.js";
