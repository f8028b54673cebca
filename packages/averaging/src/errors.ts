/**
 * The error type of this package: the shared Wider shape, `WiderError<"AveragingError">`.
 *
 * - **Thrown** (a `WiderFailure`): programmer's mistakes in code: invalid averager, policy or
 *   callback options (`config`), `update` with weights that do not match the running mean
 *   (`shape`), a custom rule or kernel returning the wrong shape (`shape`/`unsupported`), a
 *   BatchNorm layer or batch `updateBatchNorm` cannot use (`config`/`shape`), a model or callback
 *   from a second copy of TensorFlow.js (`version`).
 * - **Returned** as a `Left`: `setLearningRate` (`config` for a bad rate, `unsupported` for an
 *   optimizer whose rate cannot be set); `loadState` / `saveState` return `@wider/weights`'s
 *   `WeightsError` (`io`, `corrupt`, ...), the files being its format.
 *
 * @module
 */
import {
  type ErrorDetails,
  type ErrorKind,
  errorFor,
  isWiderError,
  type WiderError,
  WiderFailure,
} from "@wider/errors";

/** An error of `@wider/averaging` (see the module comment for which are thrown or returned). */
export type AveragingError = WiderError<"AveragingError">;

/**
 * Builds an {@link AveragingError}.
 *
 * @example
 * averagingError("config", "ema: decay is 2; use a number in [0, 1], e.g. 0.999", { path: "decay", value: 2 })
 */
export const averagingError = errorFor("AveragingError");

/** True for an {@link AveragingError}, thrown or returned. */
export const isAveragingError = (u: unknown): u is AveragingError =>
  isWiderError(u) && u._tag === "AveragingError";

/** Throws an {@link AveragingError} as a `WiderFailure` (a programmer's mistake). */
export function fail(kind: ErrorKind, message: string, details?: ErrorDetails): never {
  throw new WiderFailure(averagingError(kind, message, details));
}
