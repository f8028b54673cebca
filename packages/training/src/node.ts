/**
 * `@wider/training/node`: checkpoints on disk (Node only, through `@wider/weights/node`): run
 * checkpoints and training states, and the per-epoch checkpoint hook.
 *
 * @packageDocumentation
 */
export {
  disposeRunCheckpoint,
  loadRunCheckpoint,
  type RunCheckpoint,
  RunCheckpointHeader,
  saveRunCheckpoint,
} from "./checkpoint.js";
export {
  type CheckpointOptions,
  checkpointEveryEpoch,
  loadTrainingState,
  saveTrainingState,
} from "./stateFiles.js";
