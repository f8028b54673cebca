/**
 * Errors a user can cause while loading data: bad options, a missing source, a file
 * that cannot be read or does not hold what it should. They are values, never thrown.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What went wrong: options, a missing directory or file, an unreadable file, or bad content. */
export type DataErrorKind = "invalid-options" | "missing-source" | "io" | "corrupt";

/** A user-facing data error; `message` names the file or field, the value and the fix. */
export interface DataError {
  readonly _tag: "DataError";
  readonly kind: DataErrorKind;
  /** The file or directory concerned, when there is one. */
  readonly file?: string;
  readonly message: string;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a `DataError`. For `"io"` and `"corrupt"` errors `file` is prefixed to the
 * message; other kinds name their path in the message text itself.
 */
export const dataError = (kind: DataErrorKind, message: string, file?: string): DataError => {
  if (file === undefined) return { _tag: "DataError", kind, message };
  const prefixed = kind === "io" || kind === "corrupt" ? `${file}: ${message}` : message;
  return { _tag: "DataError", kind, file, message: prefixed };
};

/** A file whose content is wrong (bad magic, truncated, counts that disagree). */
export const corrupt = (file: string, message: string): DataError =>
  dataError("corrupt", message, file);

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Turns an unknown thrown value (from `node:fs` or `node:zlib`) into a message. */
export const describeCause = (cause: unknown): string =>
  cause instanceof Error ? cause.message : String(cause);
