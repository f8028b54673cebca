/**
 * @wider/backend: train TensorFlow.js models without libtensorflow (training kernels for
 * the wasm backend) and pick the fastest backend available.
 */
export {
  registerWasmTrainingKernels,
  type TrainingKernel,
  wasmTrainingKernels,
} from "./registerWasmTrainingKernels.js";
export { emaUpdateKernelName, swaUpdateKernelName } from "./runningMean.js";
export {
  autoOrder,
  type BackendAttempt,
  type BackendCandidate,
  type BackendChoice,
  type BackendPreference,
  type BackendUnavailable,
  installFix,
  type SelectBackendOptions,
  selectBackend,
  tryBackend,
} from "./selectBackend.js";
export {
  assertSupportedTfjs,
  type InstalledTfjsVersions,
  installedTfjsVersions,
  requiredTfjsVersion,
} from "./versions.js";
export { wasmHeapBytes } from "./wasmHeap.js";
export { initWasmTraining, type WasmTrainingOptions } from "./wasmTraining.js";
