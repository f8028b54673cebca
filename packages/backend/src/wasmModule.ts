/**
 * The one way this package's hand-written wasm modules (`wasm/*.wat`) are loaded: decoded from
 * their generated base64, instantiated on the tfjs wasm backend's own linear memory (so kernels
 * pass the backend's data pointers straight in), and cached per memory.
 *
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

/** A module's bytes from its generated base64. */
export const wasmBytes = (base64: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/**
 * Instantiates `bytes` importing `memory` as `env.memory` and returns the named function exports,
 * or undefined where the module cannot run (no WebAssembly SIMD; a memory it cannot import, e.g.
 * the threaded build's shared one; a missing export). Compiles synchronously: the modules are a
 * few kilobytes, well under browsers' limit for that.
 */
export function instantiateOn<E>(
  bytes: Uint8Array<ArrayBuffer>,
  memory: WebAssembly.Memory,
  names: readonly (keyof E & string)[],
): E | undefined {
  if (!WebAssembly.validate(bytes)) return undefined;
  let exports: Record<string, unknown>;
  try {
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  } catch {
    return undefined; // LinkError: e.g. a shared memory (threaded build) against our unshared import.
  }
  const out: Record<string, unknown> = {};
  for (const n of names) {
    if (typeof exports[n] !== "function") return undefined;
    out[n] = exports[n];
  }
  // The exports' signatures are the .wat source's, which the caller's E states.
  return out as E;
}

/**
 * `instantiate` run once per backend memory (tfjs-backend-wasm 4.22.0 exports it as the
 * Emscripten module's `asm.memory`); undefined where the memory is not reachable or the module
 * cannot run there.
 */
export function perBackend<E>(
  instantiate: (memory: WebAssembly.Memory) => E | undefined,
): (backend: BackendWasm) => E | undefined {
  const instances = new WeakMap<WebAssembly.Memory, E | undefined>();
  return (backend) => {
    // The Emscripten module type (@types/emscripten) does not declare `asm`; read it structurally.
    const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
    if (!(memory instanceof WebAssembly.Memory)) return undefined;
    if (!instances.has(memory)) instances.set(memory, instantiate(memory));
    return instances.get(memory);
  };
}
