/**
 * The error type of this package: the shared Wider shape, `WiderError<"EnsemblingError">`.
 *
 * - **Thrown** (a `WiderFailure`), for options written in code (kind `config`): `collectAt`'s
 *   `maxCount`/`store`/`whenFull`, `batchSize`, `bins`, `epsilon`, an empty `evalSets`; and a
 *   disk store where Node is missing (`unsupported`). `SnapshotCallback` throws (failing
 *   `model.fit`) with the kind of the collector's `Left`.
 * - **Returned** as a `Left`, for data and files: predictions and labels that do not match
 *   (`shape`), an ensemble or snapshot list with no members (`config`), weights that do not fit
 *   the model (`shape`), snapshots that cannot be saved, loaded or deleted (`io`).
 *
 * @module errors
 */
import {
  type ErrorDetails,
  type ErrorKind,
  errorFor,
  isWiderError,
  raise,
  type WiderError,
} from "@wider/errors";

/** An error of `@wider/ensembling`; `message` names the field, the value and the fix. */
export type EnsemblingError = WiderError<"EnsemblingError">;

/**
 * Builds an {@link EnsemblingError}.
 *
 * @example
 * ensemblingError("shape", "labels has 3 entries but there are 4 predictions; pass one label per sample")
 */
export const ensemblingError = errorFor("EnsemblingError");

/** True for an {@link EnsemblingError}, thrown or returned. */
export const isEnsemblingError = (u: unknown): u is EnsemblingError =>
  isWiderError(u) && u._tag === "EnsemblingError";

/** Throws an {@link EnsemblingError} as a `WiderFailure` (a programmer's mistake). */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  return raise(ensemblingError(kind, message, details));
}
