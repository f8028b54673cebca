/**
 * The errors of `@wider/parallel`, in the one Wider shape (`@wider/errors`).
 *
 * Every error is **thrown** (a `WiderFailure` with `_tag: "ParallelError"`; `parallelRunner` and
 * `runSteps` reject with it): options and models passed in code that do not fit (`config`: worker
 * count, optimizer, `to`; `shape`: the main model against the replicas, batch rows), and a worker
 * that failed, stopped, timed out or diverged (`worker`; the run is over, resume from a
 * checkpoint). A failure inside a step keeps the kind of the error that stopped it.
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

/** An error of `@wider/parallel`: `_tag: "ParallelError"`, a shared `kind`, the message. */
export type ParallelError = WiderError<"ParallelError">;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Builds a {@link ParallelError}. */
export const parallelError = errorFor("ParallelError");

/** Throws a {@link ParallelError} as a `WiderFailure`. */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(parallelError(kind, message, details));
}

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

/** True for a {@link ParallelError}, thrown or returned. */
export const isParallelError = (u: unknown): u is ParallelError =>
  isWiderError(u) && u._tag === "ParallelError";
