/**
 * The package's error: a kind to branch on and a message that names the problem and the fix.
 *
 * @module
 */

/** What went wrong. */
export type DistributedErrorKind =
  | "redis-url"
  | "spec"
  | "path"
  | "decode"
  | "conflict"
  | "plan"
  | "io"
  | "missing";

/** An error of `@wider/distributed`; `message` says what to do about it. */
export class DistributedError extends Error {
  override readonly name = "DistributedError";
  constructor(
    readonly kind: DistributedErrorKind,
    message: string,
  ) {
    super(message);
  }
}
