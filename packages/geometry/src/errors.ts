/**
 * The error type of this package: the shared Wider shape, `WiderError<"GeometryError">`.
 *
 * - **Thrown** (a `WiderFailure`), for mistakes in code: options of plans, widths and plots
 *   (`grid`, `margin`, `distances`, `ts`, `delta`, an unknown metric or colour scheme: `config`),
 *   a point index outside a plan (`config`), results of the wrong kind passed to a plot or
 *   profile (`config`), `x`/`y` of different lengths (`shape`), file results in a browser
 *   (`unsupported`).
 * - **Returned** as a `Left`, for weights and files: weight sets that do not match (`shape`, the
 *   points often come from checkpoints), weights that do not fit the model (`shape`), degenerate
 *   planes and directions (`degenerate`), a failed Hessian-vector product check (`degenerate`),
 *   a resume file of another plan (`conflict`), result files that cannot be read or written
 *   (`io`) or are not result files (`corrupt`), a ray without a center value (`config`).
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

/** An error of `@wider/geometry`; `message` names the field, the value and the fix. */
export type GeometryError = WiderError<"GeometryError">;

/**
 * Builds a {@link GeometryError}.
 *
 * @example
 * geometryError("degenerate", "direction has norm 0: pass a non-zero direction", { path: "direction" })
 */
export const geometryError = errorFor("GeometryError");

/** True for a {@link GeometryError}, thrown or returned. */
export const isGeometryError = (u: unknown): u is GeometryError =>
  isWiderError(u) && u._tag === "GeometryError";

/** Throws a {@link GeometryError} as a `WiderFailure` (a programmer's mistake). */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(geometryError(kind, message, details));
}
