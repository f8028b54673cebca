/**
 * The error type of this package: the shared Wider shape, `WiderError<"SwagError">`.
 *
 * - **Thrown** (a `WiderFailure`), for mistakes in code: invalid options of `swag`, the sampling
 *   functions and `bayesianModelAverage` (`maxRank`, `scale`, `rank`, `samples`, `seed`, an empty
 *   `evalSets`, a BatchNorm model without `batchNorm`: `config`), sampling an empty state
 *   (`config`), weights or draws whose names or shapes differ from the SWAG mean (`shape`).
 * - **Returned** as a `Left`: `bayesianModelAverage` and `calibrationReport` return
 *   `@wider/ensembling`'s `EnsemblingError` for their inputs (states that collected nothing,
 *   labels that do not match, samples that do not fit the model); `saveSwagState` /
 *   `loadSwagState` return `@wider/weights`'s `WeightsError` (`io`, `corrupt`, ...).
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

/** An error of `@wider/swag` (thrown; see the module comment). */
export type SwagError = WiderError<"SwagError">;

/**
 * Builds a {@link SwagError}.
 *
 * @example
 * swagError("config", "maxRank is 1; use an integer >= 2", { path: "maxRank", value: 1 })
 */
export const swagError = errorFor("SwagError");

/** True for a {@link SwagError}, thrown or returned. */
export const isSwagError = (u: unknown): u is SwagError =>
  isWiderError(u) && u._tag === "SwagError";

/** Throws a {@link SwagError} as a `WiderFailure` (a programmer's mistake). */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(swagError(kind, message, details));
}
