/**
 * `@wider/training/node`: checkpoints on disk (Node only, through `@wider/weights/node`): run
 * checkpoints and training states, and the per-epoch checkpoint hook.
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

// training states on disk
export type { CheckpointOptions } from "./stateFiles.js";
export { checkpointEveryEpoch, loadTrainingState, saveTrainingState } from "./stateFiles.js";
