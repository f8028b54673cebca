/**
 * `@wider/training` for every platform: the training pipeline as pure, tested functions: PyTorch-exact optimizers
 * over `Weights`, losses, one training step, one step-driven loop with hooks, branching and
 * checkpoint/resume.
 *
 * Checkpoint files are in `@wider/training/node` (on Node also exported from the root entry).
 *
 * @packageDocumentation
 */

export {
  fail,
  TrainingConfigError,
  type TrainingError,
  type TrainingErrorKind,
  trainingError,
} from "./errors.js";
export {
  type Batch,
  type Batches,
  type CollectOptions,
  type Collector,
  collect,
  type EpochInfo,
  type Hook,
  hookCaller,
  type LoopState,
  type RunResult,
  type RunStepsOptions,
  runSteps,
  type StepInfo,
} from "./loop.js";
export { type CrossEntropyOptions, type Loss, softmaxCrossEntropy } from "./loss.js";
export {
  type AdamOptions,
  adam,
  adamw,
  applyUpdates,
  cloneOptState,
  disposeOptState,
  type Optimizer,
  type OptState,
  type OptUpdate,
  type SgdOptions,
  sgd,
} from "./optimizers.js";
export {
  branch,
  CheckpointHeader,
  cloneTrainingState,
  disposeTrainingState,
  initLoop,
  restore,
  stateTensors,
  type TrainingState,
} from "./state.js";
export { type StepResult, type TrainStep, trainStep } from "./step.js";
