/**
 * Assembles wasm/runningMean.wat with wabt and returns the module's bytes. Shared by the build
 * script (which writes them into src/runningMeanWasm.ts) and the test that checks the committed
 * bytes still match the source.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

/** Path of the WebAssembly text source of the running-mean kernels. */
export const watPath = fileURLToPath(new URL("../wasm/runningMean.wat", import.meta.url));

/** The binary module assembled from `wasm/runningMean.wat` (SIMD enabled). */
export async function assembleRunningMean(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat(watPath, readFileSync(watPath, "utf8"), { simd: true });
  try {
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    parsed.destroy();
  }
}
