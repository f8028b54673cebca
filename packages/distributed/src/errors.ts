/**
 * The errors of `@wider/distributed`, in the one Wider shape (`@wider/errors`).
 *
 * - **Returned** (`Left<DistributedError>`): a sweep spec read from a JSON file
 *   (`decodeSweepSpec`, kind `config`).
 * - **Thrown** (a `WiderFailure` with `_tag: "DistributedError"`): everything else. The Redis
 *   operations are async and reject with it: data in Redis that does not decode or was altered
 *   (`corrupt`), a plan that does not fit (`corrupt`, `shape`), a sweep or SWAP that is missing or
 *   unfinished (`io`), a re-submission with other jobs (`conflict`), files that cannot be written
 *   or read (`io`); the checks of values written in code or passed on a command line throw at once:
 *   a bad Redis URL, SWAP options or a path outside the worker's directories (`config`).
 *
 * @module
 */
import {
  type ErrorDetails,
  type ErrorKind,
  errorFor,
  isWiderError,
  raise,
  type WiderError,
} from "@wider/errors";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** An error of `@wider/distributed`; `message` says what to do about it (also in `fix` where known). */
export type DistributedError = WiderError<"DistributedError">;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Builds a {@link DistributedError}. */
export const distributedError = errorFor("DistributedError");

/** Throws a {@link DistributedError} as a `WiderFailure`. */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(distributedError(kind, message, details));
}

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

/** True for a {@link DistributedError}, thrown or returned. */
export const isDistributedError = (u: unknown): u is DistributedError =>
  isWiderError(u) && u._tag === "DistributedError";
