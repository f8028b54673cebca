/**
 * The one error shape of every Wider package.
 *
 * The rule, the same in every package:
 * - a **programmer's mistake** (an argument written in code: `sgd({ momentum: -1 })`, weights of the
 *   wrong shape passed to an averager) is **thrown**, as a {@link WiderFailure};
 * - a **recoverable fault** (user data, a file, a config, a checkpoint, weights from elsewhere that
 *   do not match) is **returned** as a `Left` of `Either`/`TaskEither`, as a plain {@link WiderError}.
 *
 * Both carry the same fields, so one `switch (e.kind)` handles either.
 *
 * @module
 */

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * The kinds of error, shared by every package (a package uses the subset that applies to it).
 *
 * - `config`: an option, spec, config field or CLI value is invalid (the fix names a valid one);
 * - `shape`: names, shapes or counts of tensors/weights/labels do not match;
 * - `io`: a file or directory cannot be read or written, or is missing;
 * - `corrupt`: a file or message was read but does not hold what it should (bad JSON, manifest, blob);
 * - `version`: a file format, library or backend version that is not supported;
 * - `unsupported`: an operation the given object cannot do (an optimizer without a rate, ...);
 * - `degenerate`: numerically degenerate input (collinear plane points, a failed check);
 * - `conflict`: another writer holds or changed the same resource;
 * - `worker`: a worker thread or process failed or stopped.
 */
export type ErrorKind =
  | "config"
  | "shape"
  | "io"
  | "corrupt"
  | "version"
  | "unsupported"
  | "degenerate"
  | "conflict"
  | "worker";

/** Every {@link ErrorKind}, in a stable order (for tests and documentation). */
export const errorKinds: readonly ErrorKind[] = [
  "config",
  "shape",
  "io",
  "corrupt",
  "version",
  "unsupported",
  "degenerate",
  "conflict",
  "worker",
];

/**
 * A Wider error value. `_tag` names the package's error type (`"WeightsError"`, ...), `kind` is
 * one of the shared {@link ErrorKind}s, `message` reads on its own (what is wrong, where, the fix);
 * `path` (a field, a weight name, a file), `value` (what was given) and `fix` (what would work)
 * are set where known.
 */
export interface WiderError<Tag extends string = string> {
  readonly _tag: Tag;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly path?: string;
  readonly value?: unknown;
  readonly fix?: string;
}

/** The optional fields of a {@link WiderError}. */
export interface ErrorDetails {
  readonly path?: string;
  readonly value?: unknown;
  readonly fix?: string;
}

// -------------------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------------------

/**
 * Builds a {@link WiderError}; `details` fields are attached only when given.
 *
 * @example
 * widerError("WeightsError", "shape", "dense/kernel is [3, 4], expected [4, 3]", { path: "dense/kernel" })
 */
export const widerError = <Tag extends string>(
  tag: Tag,
  kind: ErrorKind,
  message: string,
  details: ErrorDetails = {},
): WiderError<Tag> => {
  const out: { -readonly [K in keyof WiderError<Tag>]: WiderError<Tag>[K] } = {
    _tag: tag,
    kind,
    message,
  };
  if (details.path !== undefined) out.path = details.path;
  if ("value" in details) out.value = details.value;
  if (details.fix !== undefined) out.fix = details.fix;
  return out;
};

/**
 * A constructor bound to one package's tag, e.g. `const weightsError = errorFor("WeightsError")`.
 */
export const errorFor =
  <Tag extends string>(tag: Tag) =>
  (kind: ErrorKind, message: string, details?: ErrorDetails): WiderError<Tag> =>
    widerError(tag, kind, message, details);

/**
 * The thrown form of a {@link WiderError}: an `Error` (stack trace, `instanceof Error`) with the
 * same fields, for programmer's mistakes. `catch (e) { if (isWiderError(e)) e.kind }` works for
 * both forms.
 */
export class WiderFailure<Tag extends string = string> extends Error implements WiderError<Tag> {
  override readonly name: string;
  readonly _tag: Tag;
  readonly kind: ErrorKind;
  readonly path?: string;
  readonly value?: unknown;
  readonly fix?: string;

  constructor(error: WiderError<Tag>) {
    super(error.message);
    this.name = error._tag;
    this._tag = error._tag;
    this.kind = error.kind;
    if (error.path !== undefined) this.path = error.path;
    if ("value" in error) this.value = error.value;
    if (error.fix !== undefined) this.fix = error.fix;
  }

  /** The plain value (no stack), e.g. to return it in a `Left` or serialise it. */
  toError(): WiderError<Tag> {
    return widerError(this._tag, this.kind, this.message, this);
  }
}

// -------------------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------------------

/** Throws `error` as a {@link WiderFailure} (for programmer's mistakes). */
export const raise = <Tag extends string>(error: WiderError<Tag>): never => {
  throw new WiderFailure(error);
};

/** True for a {@link WiderError}, thrown or returned (any package). */
export const isWiderError = (u: unknown): u is WiderError => {
  if (typeof u !== "object" || u === null) return false;
  const r = u as Record<string, unknown>;
  return (
    typeof r._tag === "string" &&
    typeof r.message === "string" &&
    typeof r.kind === "string" &&
    (errorKinds as readonly string[]).includes(r.kind)
  );
};

/** The error's message with its fix appended when the message does not already contain it. */
export const describe = (error: WiderError): string =>
  error.fix === undefined || error.message.includes(error.fix)
    ? error.message
    : `${error.message}; ${error.fix}`;
