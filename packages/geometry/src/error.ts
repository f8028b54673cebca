/**
 * Errors a user can cause with geometry plans, their evaluation and their result files.
 *
 * @module
 */

/** The kinds of error a user can cause: mismatched weights, degenerate planes, bad options or files. */
export type GeometryErrorKind =
  | "shape-mismatch"
  | "degenerate"
  | "bad-option"
  | "assign"
  | "io"
  | "bad-file"
  | "plan-mismatch"
  | "hvp-check";

/** An error value: `kind` to branch on, `message` naming the field, the value and the fix. */
export interface GeometryError {
  readonly kind: GeometryErrorKind;
  readonly message: string;
  readonly file?: string;
}

/** Builds a {@link GeometryError}; `file` is attached only when given. */
export const geometryError = (
  kind: GeometryErrorKind,
  message: string,
  file?: string,
): GeometryError => (file === undefined ? { kind, message } : { kind, message, file });
