/**
 * One call that makes the current TensorFlow.js engine train on wasm: registers the
 * training kernels, optionally sets where the .wasm binaries are, selects `wasm`.
 */
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { fail } from "./errors.js";
import { registerWasmTrainingKernels } from "./registerWasmTrainingKernels.js";

/** Options of `initWasmTraining`. */
export interface WasmTrainingOptions {
  /**
   * Folder (ending in "/") or URL prefix of the `.wasm` binaries. Not needed under Node,
   * where @tensorflow/tfjs-backend-wasm finds them next to its own files; needed in
   * browsers whose bundler does not copy them.
   */
  readonly wasmPaths?: string;
}

/**
 * Registers the training kernels and switches TensorFlow.js to the `wasm` backend; resolves
 * to "wasm". Throws when the wasm binary cannot be loaded (an environment problem, not
 * input): use `selectBackend` for a fallback that never throws.
 *
 * @example
 * await initWasmTraining(); // in a test or a bench
 * const model = tf.sequential(...); await model.fit(...);
 */
export async function initWasmTraining(options: WasmTrainingOptions = {}): Promise<"wasm"> {
  registerWasmTrainingKernels();
  if (options.wasmPaths !== undefined) setWasmPaths(options.wasmPaths);
  const ok = await tf.setBackend("wasm");
  if (!ok || tf.getBackend() !== "wasm") {
    const fix =
      "under Node check that @tensorflow/tfjs-backend-wasm@4.22.0 is installed; in a browser pass " +
      "{ wasmPaths } pointing at the folder serving its .wasm files";
    fail(
      "io",
      "@wider/backend: the wasm backend failed to initialise (the .wasm binary could not be " +
        `loaded). Fix: ${fix}.`,
      { ...(options.wasmPaths === undefined ? {} : { path: options.wasmPaths }), fix },
    );
  }
  await tf.ready();
  return "wasm";
}
