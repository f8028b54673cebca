/**
 * Assembles the WebAssembly text sources in wasm/ with wabt and returns a module's bytes. Shared
 * by the build script (which writes them into src/<name>Wasm.ts) and the tests that check the
 * committed bytes still match the sources.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

/** The hand-written modules: `wasm/<name>.wat`, committed as `src/<name>Wasm.ts`. */
export const wasmModules = [
  "runningMean",
  "moments",
  "maxPoolGrad",
  "convFilterGrad",
  "convInputGrad",
  "convForward",
  "matMul",
] as const;

/** Name of one of the hand-written modules. */
export type WasmModuleName = (typeof wasmModules)[number];

/** Path of the WebAssembly text source of module `name`. */
export const watPathOf = (name: WasmModuleName): string =>
  fileURLToPath(new URL(`../wasm/${name}.wat`, import.meta.url));

/** Path of the WebAssembly text source of the running-mean kernels. */
export const watPath = watPathOf("runningMean");

/** The binary module assembled from `wasm/<name>.wat` (SIMD enabled). */
export async function assembleWasm(name: WasmModuleName): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const path = watPathOf(name);
  const parsed = wabt.parseWat(path, readFileSync(path, "utf8"), { simd: true });
  try {
    parsed.resolveNames();
    parsed.validate();
    return parsed.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    parsed.destroy();
  }
}

/** The binary module assembled from `wasm/runningMean.wat` (SIMD enabled). */
export const assembleRunningMean = (): Promise<Uint8Array> => assembleWasm("runningMean");
