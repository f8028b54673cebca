/**
 * The errors of `@wider/training`, in the one Wider shape (`@wider/errors`).
 *
 * - **Thrown** (a `WiderFailure` with `_tag: "TrainingError"`): programmer's mistakes found at
 *   once: a bad option passed to a constructor in code (`sgd({ momentum: -1 })`, `runSteps`,
 *   `softmaxCrossEntropy`: kind `config`), and in-memory weights or optimizer states that do not
 *   match the model or each other (`trainStep`, `applyUpdates`: kind `shape`).
 * - **Returned** as a `Left<TrainingError>`: checkpoints and states on disk (`io`, `corrupt`,
 *   `version`, `config` for a bad group name) and `restore`, whose state may come from a file or
 *   another architecture (`shape`).
 *
 * @module
 */
import {
  type ErrorDetails,
  type ErrorKind,
  errorFor,
  errorKinds,
  raise,
  type WiderError,
} from "@wider/errors";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * An error of `@wider/training`: `_tag: "TrainingError"`, a shared `kind`, a `message` naming the
 * field, the value and the fix, and `path` (the option or the checkpoint directory), `value` and
 * `fix` where known.
 */
export type TrainingError = WiderError<"TrainingError">;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a {@link TrainingError}.
 * @example
 * trainingError("config", "sgd: momentum was -1; pass a number >= 0", { path: "momentum", value: -1 })
 */
export const trainingError = errorFor("TrainingError");

/** Throws a {@link TrainingError} of kind `kind` as a `WiderFailure` (a programmer's mistake). */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(trainingError(kind, message, details));
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** The kind of an error from another package when it is a shared one, else `fallback`. */
export const sharedKind = (kind: string, fallback: ErrorKind): ErrorKind =>
  (errorKinds as readonly string[]).includes(kind) ? (kind as ErrorKind) : fallback;
