/**
 * Picks the fastest TensorFlow.js backend this machine can run: native TensorFlow with a
 * GPU, native TensorFlow on the CPU, wasm with the training kernels, then pure-JS cpu.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { type BackendError, backendError } from "./errors.js";
import { initWasmTraining } from "./wasmTraining.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What the caller asks for: `auto` or one backend forced. */
export type BackendPreference = "auto" | "tensorflow-gpu" | "tensorflow" | "wasm" | "cpu";

/** The candidates, in the order `auto` tries them. */
export type BackendCandidate = Exclude<BackendPreference, "auto">;

/** One candidate tried: whether it became the active backend and why (not). */
export interface BackendAttempt {
  readonly candidate: BackendCandidate;
  readonly ok: boolean;
  readonly reason: string;
}

/** The backend now active (`tf.getBackend()` name), why it was chosen, and every attempt. */
export interface BackendChoice {
  readonly candidate: BackendCandidate;
  /** The TensorFlow.js backend name now active: "tensorflow", "wasm" or "cpu". */
  readonly backend: string;
  readonly reason: string;
  readonly tried: ReadonlyArray<BackendAttempt>;
}

/**
 * No backend could be started: a {@link BackendError} of kind `unsupported` (`path`
 * `"preference"`, `value` the preference, `fix` the install command) with the attempts.
 */
export interface BackendUnavailable extends BackendError {
  readonly preference: BackendPreference;
  readonly tried: ReadonlyArray<BackendAttempt>;
}

/** Options of `selectBackend`; `importModule` exists so tests can simulate broken installs. */
export interface SelectBackendOptions {
  /** Dynamic import used for optional modules (default: the platform's `import()`). */
  readonly importModule?: (specifier: string) => Promise<unknown>;
  /** Passed to `initWasmTraining` (browsers only). */
  readonly wasmPaths?: string;
}

/** The order `auto` tries. */
export const autoOrder: ReadonlyArray<BackendCandidate> = [
  "tensorflow-gpu",
  "tensorflow",
  "wasm",
  "cpu",
];

const nativeModule: Record<"tensorflow-gpu" | "tensorflow", string> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  tensorflow: "@tensorflow/tfjs-node",
};

/** How to install each candidate, quoted in messages. */
export const installFix: Record<BackendCandidate, string> = {
  "tensorflow-gpu":
    "install it with `npm install @tensorflow/tfjs-node-gpu@4.22.0` on Linux x64 with CUDA 11.2 " +
    "and cuDNN 8.1 (its install script downloads libtensorflow and must be allowed to run: " +
    "with pnpm 10, `pnpm approve-builds`; see the @wider/backend README)",
  tensorflow:
    "install it with `npm install @tensorflow/tfjs-node@4.22.0` (its install script downloads " +
    "libtensorflow, so it needs network access to storage.googleapis.com and must be allowed " +
    "to run: with pnpm 10, `pnpm approve-builds`)",
  wasm: "install it with `npm install @tensorflow/tfjs-backend-wasm@4.22.0`",
  cpu: "install it with `npm install @tensorflow/tfjs-backend-cpu@4.22.0` (or `@tensorflow/tfjs`)",
};

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

// `@vite-ignore`: bundlers cannot (and need not) resolve this variable specifier; it loads optional
// Node backends, which a browser build never has.
const defaultImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

/**
 * "not installed" when the module itself cannot be resolved; otherwise the first line of
 * the load error (a package that is present but broken, e.g. its native binding missing
 * because its install script did not run, is not "not installed"). Node's and Vite's "cannot
 * resolve" errors both count as not installed.
 */
function describe(error: unknown, specifier: string): string {
  if (error instanceof Error) {
    const first = error.message.split("\n")[0] ?? "";
    const code = (error as { code?: unknown }).code;
    const missing =
      (code === "ERR_MODULE_NOT_FOUND" ||
        code === "MODULE_NOT_FOUND" ||
        /Cannot find (module|package)/.test(first) ||
        // Vite (and so vitest) replaces a declared but absent optional peer with a module that
        // throws this, instead of Node's ERR_MODULE_NOT_FOUND.
        /^Could not resolve "[^"]+" imported by "[^"]+"/.test(first)) &&
      (first.includes(`'${specifier}'`) || first.includes(`"${specifier}"`));
    return missing ? "not installed" : `failed to load: ${first}`;
  }
  return `failed to load: ${String(error)}`;
}

async function activate(name: string): Promise<string | undefined> {
  try {
    const ok = await tf.setBackend(name);
    if (!ok || tf.getBackend() !== name) return `backend '${name}' failed to initialise`;
    await tf.ready();
    return undefined;
  } catch (error) {
    return `backend '${name}' failed to initialise: ${error instanceof Error ? error.message : String(error)}`;
  }
}

async function tryNative(
  candidate: "tensorflow-gpu" | "tensorflow",
  importModule: (specifier: string) => Promise<unknown>,
): Promise<BackendAttempt> {
  const specifier = nativeModule[candidate];
  try {
    await importModule(specifier);
  } catch (error) {
    return { candidate, ok: false, reason: `${specifier}: ${describe(error, specifier)}` };
  }
  if (tf.findBackendFactory("tensorflow") === null) {
    return {
      candidate,
      ok: false,
      reason:
        `${specifier} loaded but registered no 'tensorflow' backend with this copy of ` +
        `@tensorflow/tfjs-core ${tf.version_core}; install versions that match (4.22.0)`,
    };
  }
  const failure = await activate("tensorflow");
  return failure === undefined
    ? { candidate, ok: true, reason: `${specifier} loaded: native libtensorflow` }
    : { candidate, ok: false, reason: `${specifier}: ${failure}` };
}

async function tryWasm(options: SelectBackendOptions): Promise<BackendAttempt> {
  try {
    await initWasmTraining(options.wasmPaths === undefined ? {} : { wasmPaths: options.wasmPaths });
    const simd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
    return {
      candidate: "wasm",
      ok: true,
      reason: `wasm (XNNPACK${simd ? ", SIMD" : ", no SIMD"}, 1 thread) with the @wider/backend training kernels`,
    };
  } catch (error) {
    return {
      candidate: "wasm",
      ok: false,
      reason: describe(error, "@tensorflow/tfjs-backend-wasm"),
    };
  }
}

async function tryCpu(
  importModule: (specifier: string) => Promise<unknown>,
): Promise<BackendAttempt> {
  if (tf.findBackendFactory("cpu") === null) {
    try {
      await importModule("@tensorflow/tfjs-backend-cpu");
    } catch (error) {
      return {
        candidate: "cpu",
        ok: false,
        reason: `@tensorflow/tfjs-backend-cpu: ${describe(error, "@tensorflow/tfjs-backend-cpu")}`,
      };
    }
  }
  const failure = await activate("cpu");
  return failure === undefined
    ? {
        candidate: "cpu",
        ok: true,
        reason: "pure-JavaScript cpu backend (slow: ~2 samples/s on a small CNN)",
      }
    : { candidate: "cpu", ok: false, reason: failure };
}

/** Tries one candidate; never throws. */
export async function tryBackend(
  candidate: BackendCandidate,
  options: SelectBackendOptions = {},
): Promise<BackendAttempt> {
  const importModule = options.importModule ?? defaultImport;
  switch (candidate) {
    case "tensorflow-gpu":
    case "tensorflow":
      return tryNative(candidate, importModule);
    case "wasm":
      return tryWasm(options);
    case "cpu":
      return tryCpu(importModule);
  }
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * Activates a backend. `auto` tries @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node,
 * wasm with the training kernels, then cpu, and returns the first that starts; a forced
 * preference tries only that one. Absent or broken optional installs are reported in
 * `tried`, never thrown. Left when nothing could start, with the install fix.
 *
 * @example
 * const choice = await selectBackend("auto");
 * if (E.isRight(choice)) console.log(choice.right.backend, choice.right.reason);
 */
export async function selectBackend(
  preference: BackendPreference,
  options: SelectBackendOptions = {},
): Promise<E.Either<BackendUnavailable, BackendChoice>> {
  const order = preference === "auto" ? autoOrder : [preference];
  const tried: BackendAttempt[] = [];
  for (const candidate of order) {
    const attempt = await tryBackend(candidate, options);
    tried.push(attempt);
    if (attempt.ok) {
      return E.right({ candidate, backend: tf.getBackend(), reason: attempt.reason, tried });
    }
  }
  const last = tried[tried.length - 1];
  const fix = preference === "auto" ? installFix.wasm : `${installFix[preference]}, or use "auto"`;
  const message =
    preference === "auto"
      ? `no TensorFlow.js backend could start (${tried.map((t) => `${t.candidate}: ${t.reason}`).join("; ")}); ${fix}`
      : `backend preference "${preference}" is unavailable (${last?.reason ?? "not tried"}); ${fix}`;
  const error = backendError("unsupported", message, {
    path: "preference",
    value: preference,
    fix,
  });
  return E.left({ ...error, preference, tried });
}
