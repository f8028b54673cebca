/**
 * `@wider/training` for every platform: the training pipeline as pure, tested functions: PyTorch-exact optimizers
 * over `Weights`, losses, one training step, one step-driven loop with hooks, branching and
 * checkpoint/resume.
 *
 * Checkpoint files are in `@wider/training/node` (on Node also exported from the root entry).
 *
 * @packageDocumentation
 */

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
export type { StepResult, TrainStep } from "./step.js";
export { trainStep } from "./step.js";
