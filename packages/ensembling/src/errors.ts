/**
 * Errors a user can cause (shapes that do not match, bad configuration,
 * unreadable snapshots), returned as values inside `Either`.
 *
 * @module errors
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What went wrong: a shape/label mismatch, a bad option, or a snapshot that could not be read/written/assigned. */
export type EnsemblingErrorKind = "shape" | "config" | "io" | "weights";

/** A user-caused error; `message` names the field, the value and the fix. */
export interface EnsemblingError {
  readonly _tag: "EnsemblingError";
  readonly kind: EnsemblingErrorKind;
  readonly message: string;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Builds an {@link EnsemblingError}, e.g. `ensemblingError("config", "maxCount was 0; pass a positive integer")`. */
export const ensemblingError = (kind: EnsemblingErrorKind, message: string): EnsemblingError => ({
  _tag: "EnsemblingError",
  kind,
  message,
});
