/**
 * Errors a user can cause (a bad option, weights that do not match the optimizer state, a
 * checkpoint that cannot be read), in the tagged shape the other Wider packages use.
 *
 * @module
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What went wrong: a bad option, mismatched names/shapes, a file problem, or a bad checkpoint. */
export type TrainingErrorKind = "config" | "shape" | "io" | "checkpoint";

/** A user-caused error; `message` names the field, the value and the fix. */
export interface TrainingError {
  readonly _tag: "TrainingError";
  readonly kind: TrainingErrorKind;
  readonly message: string;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Builds a {@link TrainingError}, e.g. `trainingError("config", "sgd: momentum was -1; pass a number >= 0")`. */
export const trainingError = (kind: TrainingErrorKind, message: string): TrainingError => ({
  _tag: "TrainingError",
  kind,
  message,
});

/**
 * Thrown (not returned) for a bad option passed to a constructor such as `sgd({ momentum: -1 })`
 * or for weights that do not match an optimizer state: mistakes in code, found at once.
 * `error` carries the same tagged value a returned error would.
 */
export class TrainingConfigError extends Error {
  override readonly name = "TrainingConfigError";
  constructor(readonly error: TrainingError) {
    super(error.message);
  }
}

/** Throws a {@link TrainingConfigError} of kind `kind`. */
export const fail = (kind: TrainingErrorKind, message: string): never => {
  throw new TrainingConfigError(trainingError(kind, message));
};
