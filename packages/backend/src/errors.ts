/**
 * The errors of `@wider/backend`, in the one Wider shape (`@wider/errors`).
 *
 * - No backend can start (`selectBackend`): **returned**, a `Left<BackendUnavailable>` (kind
 *   `unsupported`, with the attempts and the install fix): the environment, not the code, decides.
 * - Everything else is **thrown** as a `WiderFailure` with `_tag: "BackendError"`: a tfjs version
 *   the wasm kernels do not support (`version`), a wasm binary that cannot load (`io`), and a
 *   kernel called with what it does not support (`unsupported`: a dtype, NCHW, an activation;
 *   `shape`: operands of different shapes; `config`: a missing input or attribute).
 *
 * @module
 */
import { type ErrorDetails, type ErrorKind, errorFor, raise, type WiderError } from "@wider/errors";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An error of `@wider/backend`: `_tag: "BackendError"`, a shared `kind`, `path`/`value`/`fix`. */
export type BackendError = WiderError<"BackendError">;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a {@link BackendError}.
 * @example
 * backendError("version", "tfjs-core 4.21.0 is installed", { value: "4.21.0", fix: "install 4.22.0" })
 */
export const backendError = errorFor("BackendError");

/** Throws a {@link BackendError} as a `WiderFailure`. */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(backendError(kind, message, details));
}
