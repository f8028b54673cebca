/**
 * Errors a user can cause (bad flags, bad config, missing data, an output directory in use).
 * The CLI prints `message` as one line on stderr and exits non-zero, without a stack trace.
 *
 * @module
 */

/** A user-facing error: one line naming what is wrong and how to fix it. */
export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    message: string,
    /** The process exit code the CLI uses (2: usage/config, 1: runtime). */
    readonly exitCode = 2,
  ) {
    super(message.replace(/\s*\n\s*/g, " "));
  }
}

/** Thrown when the run was interrupted (Ctrl-C) and stopped cleanly at a step boundary. */
export class Interrupted extends Error {
  override readonly name = "Interrupted";
  constructor(readonly where: string) {
    super(`interrupted ${where}`);
  }
}
