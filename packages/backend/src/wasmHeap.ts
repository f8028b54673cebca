/** Reading the size of the wasm backend's heap, for leak checks. */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Bytes of linear memory of the `wasm` backend's module (it only grows: a rise across a
 * training loop means a leak), or undefined when the wasm backend is not initialised.
 *
 * @example
 * const before = wasmHeapBytes(); trainSteps(1000); expect(wasmHeapBytes()).toBe(before);
 */
export function wasmHeapBytes(): number | undefined {
  const backend = tf.engine().registry.wasm as BackendWasm | undefined;
  // The module type comes from @types/emscripten, which the wasm package does not re-export.
  const module = backend?.wasm as unknown as { HEAP8?: Int8Array } | undefined;
  return module?.HEAP8?.length;
}
