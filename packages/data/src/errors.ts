/**
 * The errors of `@wider/data`, in the one Wider shape (`@wider/errors`).
 *
 * - Recoverable faults (a missing directory or file, a file that cannot be read or does not
 *   hold what it should, bad `loadDataset` options that may come from JSON or a CLI) are
 *   **returned** as `Left<DataError>`: kinds `config`, `io`, `corrupt`.
 * - Programmer's mistakes (a non-integer batch size passed to `planBatches`, an index outside a
 *   split, a std of 0 in `normalize`) are **thrown** as a `WiderFailure` with `_tag: "DataError"`:
 *   kinds `config` (an argument) and `shape` (an index or label outside the split).
 *
 * @module
 */
import { type ErrorDetails, errorFor, raise, type WiderError } from "@wider/errors";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A data error: `kind` is `config`, `io`, `corrupt` or `shape`; `path` is the file, directory
 * or option concerned; `message` names it, the value and the fix (also in `fix` where known).
 */
export type DataError = WiderError<"DataError">;

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a {@link DataError}.
 * @example
 * dataError("config", "options.dir is \"\"; expected a non-empty string", { path: "options.dir", value: "" })
 */
export const dataError = errorFor("DataError");

/**
 * A file whose content is wrong (bad magic, truncated, counts that disagree): kind `corrupt`,
 * `path` the file, the message prefixed with the file and ending with the fix when given.
 */
export const corrupt = (file: string, message: string, fix?: string): DataError =>
  dataError("corrupt", `${file}: ${message}${fix === undefined ? "" : `; ${fix}`}`, {
    path: file,
    ...(fix === undefined ? {} : { fix }),
  });

/** A file that cannot be read: kind `io`, `path` the file, the message prefixed with it. */
export const unreadable = (file: string, message: string): DataError =>
  dataError("io", `${file}: ${message}`, { path: file });

/** Throws a programmer's mistake (an argument written in code) as a `WiderFailure`. */
export function misuse(
  kind: "config" | "shape",
  message: string,
  details: ErrorDetails = {},
): never {
  return raise(dataError(kind, message, details));
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Turns an unknown thrown value (from `node:fs` or `node:zlib`) into a message. */
export const describeCause = (cause: unknown): string =>
  cause instanceof Error ? cause.message : String(cause);
