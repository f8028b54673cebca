/**
 * The error type of this package: the shared Wider shape, `WiderError<"WeightsError">`.
 *
 * - **Thrown** (a `WiderFailure`): arithmetic on two weight sets the caller built that do not
 *   match (`add`, `sub`, `lerp`, `axpy`, `dot`, `zipWith`: kind `shape`), `unflatten` with the
 *   wrong length (`shape`), `fromModel` on a model with two variables of one name (`config`).
 * - **Returned** as a `Left`: writing weights into a model (`assignToModel`, `withWeights`:
 *   `shape`, the weights may come from a file or another architecture), and every save or load
 *   (`io`, `corrupt`, `version`, `config`, `unsupported`).
 *
 * @module
 */
import { errorFor, isWiderError, type WiderError } from "@wider/errors";

/**
 * An error of `@wider/weights`: `kind` is `shape` (names, shapes or counts that do not match),
 * `io` (a file cannot be read or written), `corrupt` (a save was edited or damaged), `version`
 * (a save in another format version), `config` (a bad argument such as an empty directory or
 * non-JSON metadata) or `unsupported` (a dtype that cannot be saved); `path` is the file or the
 * weight's name where known.
 */
export type WeightsError = WiderError<"WeightsError">;

/**
 * Builds a {@link WeightsError}.
 *
 * @example
 * weightsError("corrupt", "runs/swa/manifest.json: ...", { path: "runs/swa/manifest.json" })
 */
export const weightsError = errorFor("WeightsError");

/** True for a {@link WeightsError}, thrown or returned. */
export const isWeightsError = (u: unknown): u is WeightsError =>
  isWiderError(u) && u._tag === "WeightsError";
