/**
 * @wider/backend: train TensorFlow.js models without libtensorflow (training kernels for
 * the wasm backend) and pick the fastest backend available.
 *
 * Errors: `selectBackend` returns `Left<BackendUnavailable>` (kind `unsupported`); the rest throw
 * a `WiderFailure` with `_tag: "BackendError"` (see the README's "Errors" section).
 */

// errors
export type { BackendError } from "./errors.js";
export { backendError } from "./errors.js";
export { momentsKernelName } from "./moments.js";
// wasm training kernels
export type { TrainingKernel } from "./registerWasmTrainingKernels.js";
export {
  registerWasmTrainingKernels,
  wasmTrainingKernels,
} from "./registerWasmTrainingKernels.js";
export { emaUpdateKernelName, swaUpdateKernelName } from "./runningMean.js";
// backend selection
export type {
  BackendAttempt,
  BackendCandidate,
  BackendChoice,
  BackendPreference,
  BackendUnavailable,
  SelectBackendOptions,
} from "./selectBackend.js";
export { autoOrder, installFix, selectBackend, tryBackend } from "./selectBackend.js";
// versions
export type { InstalledTfjsVersions } from "./versions.js";
export {
  assertSupportedTfjs,
  installedTfjsVersions,
  requiredTfjsVersion,
} from "./versions.js";
export { wasmHeapBytes } from "./wasmHeap.js";
export type { WasmTrainingOptions } from "./wasmTraining.js";
export { initWasmTraining } from "./wasmTraining.js";
