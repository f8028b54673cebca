/**
 * The shared codec layer: decode with io-ts into a {@link WiderError} whose message names the
 * field, the value and what was expected; refuse unknown keys; common numeric brands.
 *
 * Built on io-ts's own combinators (`t.brand`, `t.Context`). Not `io-ts-reporters` (it installs
 * `@scarf/scarf`, an install-time analytics dependency) and not `io-ts-types` (it needs
 * `monocle-ts` and `newtype-ts` as peers for brands that `t.brand` gives): see the README.
 *
 * @module
 */
import { type Either, isLeft, left, right } from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type ErrorKind, raise, type WiderError, widerError } from "./WiderError.js";

// -------------------------------------------------------------------------------------------------
// reporting
// -------------------------------------------------------------------------------------------------

/** One decoding problem: where (`$.schedules[1].cycle`), what was given, what would be accepted. */
export interface Problem {
  readonly path: string;
  readonly value: unknown;
  readonly expected: string;
  /** True for a key the codec does not know (see {@link excess}); `expected` lists the known ones. */
  readonly unknownKey?: true;
}

/** The context entry {@link excess} adds for a key the codec does not know. */
const UnknownKey = new t.Type<never, never, unknown>(
  "a known field",
  (_u): _u is never => false,
  (u, c) => t.failure(u, c),
  (a) => a,
);

/**
 * Whether a context entry steps into the input (a field, an element, an unknown key) rather than
 * into another codec for the same value (an intersection's or union's member: io-ts gives those the
 * parent's value). Wrappers that add no entry (exact, readonly, refinements) need no case.
 */
const addsKey = (parent: t.ContextEntry, entry: t.ContextEntry): boolean =>
  entry.type === UnknownKey || entry.actual !== parent.actual;

/** A codec's name for messages, shortened when it is a long structural name. */
const nameOf = (type: t.Decoder<unknown, unknown>): string =>
  type.name.length > 80 ? `${type.name.slice(0, 77)}...` : type.name;

/**
 * The input path of a context (`$.schedules[1].cycle`) and the outermost codec at that path (a
 * union rather than one of its members, so "expected" names the whole union).
 */
const locate = (
  context: t.Context,
  root: string,
): { readonly path: string; readonly type: t.Decoder<unknown, unknown> | undefined } => {
  let path = root;
  let type = context[0]?.type;
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1];
    const entry = context[i];
    if (parent === undefined || entry === undefined) continue;
    if (!addsKey(parent, entry)) continue;
    path = /^\d+$/.test(entry.key) ? `${path}[${entry.key}]` : `${path}.${entry.key}`;
    type = entry.type;
  }
  return { path, type };
};

/**
 * The problems of a failed io-ts validation, one per input path (the first failure of a path wins,
 * so a union reports its path once, naming the whole union as expected).
 */
export const reportErrors = (errors: t.Errors, root = "$"): readonly Problem[] => {
  const seen = new Map<string, Problem>();
  for (const error of errors) {
    const { path, type } = locate(error.context, root);
    if (seen.has(path)) continue;
    const expected = error.message ?? (type === undefined ? "a valid value" : nameOf(type));
    // A failure inside a field reports the field's whole value, not a fragment of a union member.
    const value = path === root ? error.context[0]?.actual : valueAt(error.context);
    const shown = value === NOT_FOUND ? error.value : value;
    const unknownKey = error.context[error.context.length - 1]?.type === UnknownKey;
    seen.set(
      path,
      unknownKey ? { path, value: shown, expected, unknownKey } : { path, value: shown, expected },
    );
  }
  return [...seen.values()];
};

const NOT_FOUND = Symbol("not found");

/** The input value at the end of the keyed context (the field as given). */
const valueAt = (context: t.Context): unknown => {
  let found: unknown = NOT_FOUND;
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1];
    const entry = context[i];
    if (parent === undefined || entry === undefined) continue;
    if (!addsKey(parent, entry)) continue;
    found = entry.actual;
  }
  return found;
};

/** A short, single-line rendering of a value for messages. */
export const showValue = (value: unknown): string => {
  if (value === undefined) return "missing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    const s = JSON.stringify(value);
    if (s === undefined) return String(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(value);
  }
};

/** One problem as a sentence: `$.cycle is 0; expected a positive integer`. */
export const showProblem = (p: Problem): string =>
  p.unknownKey === true
    ? `${p.path} is not a known field (known: ${p.expected})`
    : p.value === undefined
      ? `${p.path} is missing; expected ${p.expected}`
      : `${p.path} is ${showValue(p.value)}; expected ${p.expected}`;

/** How to label a decoding error. */
export interface DecodeOptions<Tag extends string> {
  /** The package's error tag, e.g. `"DataError"`. */
  readonly tag: Tag;
  /** The kind of the error (default `config`; `corrupt` for files). */
  readonly kind?: ErrorKind;
  /** The name of the input's root in paths (default `$`), e.g. a file name or `options`. */
  readonly root?: string;
  /** Prefix of the message, e.g. `loadDataset` or the file's path. */
  readonly where?: string;
  /** The fix, when there is one beyond "give the expected value". */
  readonly fix?: string;
}

/** The {@link WiderError} for a failed validation; `path`/`value` are the first problem's. */
export const errorFromValidation = <Tag extends string>(
  errors: t.Errors,
  options: DecodeOptions<Tag>,
): WiderError<Tag> => {
  const problems = reportErrors(errors, options.root ?? "$");
  const first = problems[0];
  const shown = problems.slice(0, 3).map(showProblem);
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
  const text = `${shown.join("; ")}${more}`;
  const message = options.where === undefined ? text : `${options.where}: ${text}`;
  return widerError(options.tag, options.kind ?? "config", message, {
    ...(first === undefined ? {} : { path: first.path, value: first.value }),
    ...(options.fix === undefined ? {} : { fix: options.fix }),
  });
};

/**
 * Decodes `input` with `codec`; a failure is a {@link WiderError} naming each bad field.
 *
 * @example
 * decode(excess(t.type({ cycle: PositiveInt })), { cycle: 0 }, { tag: "ScheduleError" })
 * // Left: "$.cycle is 0; expected a positive integer"
 */
export const decode = <A, Tag extends string>(
  codec: t.Decoder<unknown, A>,
  input: unknown,
  options: DecodeOptions<Tag>,
): Either<WiderError<Tag>, A> => {
  const result = codec.decode(input);
  return isLeft(result) ? left(errorFromValidation(result.left, options)) : right(result.right);
};

/** The value of a `Right`, or throws the `Left` as a `WiderFailure` (for programmer's mistakes). */
export const orThrow = <A, Tag extends string>(result: Either<WiderError<Tag>, A>): A =>
  isLeft(result) ? raise(result.left) : result.right;

// -------------------------------------------------------------------------------------------------
// unknown keys
// -------------------------------------------------------------------------------------------------

/** The keys an object codec knows (through intersections, exact/strict, readonly, refinements). */
export const knownKeys = (codec: t.Decoder<unknown, unknown>): ReadonlySet<string> | undefined => {
  const c = codec as unknown as {
    readonly _tag?: string;
    readonly props?: t.Props;
    readonly types?: readonly t.Decoder<unknown, unknown>[];
    readonly type?: t.Decoder<unknown, unknown>;
  };
  switch (c._tag) {
    case "InterfaceType":
    case "PartialType":
    case "StrictType":
      return new Set(Object.keys(c.props ?? {}));
    case "ExactType":
    case "ReadonlyType":
    case "RefinementType":
      return c.type === undefined ? undefined : knownKeys(c.type);
    case "IntersectionType": {
      const all = new Set<string>();
      for (const member of c.types ?? []) {
        const keys = knownKeys(member);
        if (keys === undefined) return undefined;
        for (const k of keys) all.add(k);
      }
      return all;
    }
    default:
      return undefined;
  }
};

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u);

/**
 * `codec`, refusing any key it does not know (a typo such as `lr_init` fails instead of being
 * ignored). Works on `t.type`, `t.partial`, `t.exact`/`t.strict`, intersections and readonly codecs.
 */
export const excess = <C extends t.Mixed>(codec: C): C => {
  const keys = knownKeys(codec);
  if (keys === undefined) {
    throw new TypeError(`excess: ${codec.name} is not an object codec (type/partial/intersection)`);
  }
  const known = [...keys].sort();
  const validate: t.Validate<unknown, t.TypeOf<C>> = (input, context) => {
    if (isRecord(input)) {
      const unknown = Object.keys(input).filter((k) => !keys.has(k));
      if (unknown.length > 0) {
        return t.failures(
          unknown.map((key) => ({
            value: input[key],
            context: [...context, { key, type: UnknownKey, actual: input[key] }],
            message: known.join(", "),
          })),
        );
      }
    }
    return codec.validate(input, context);
  };
  // Same class as the codec, so knownKeys/excess still see through it; only validate differs.
  return Object.assign(Object.create(Object.getPrototypeOf(codec) as object) as C, codec, {
    validate,
    decode: (input: unknown) => validate(input, [{ key: "", type: codec, actual: input }]),
  });
};

// -------------------------------------------------------------------------------------------------
// brands
// -------------------------------------------------------------------------------------------------

/** The brand of PositiveInt. */
export interface PositiveIntBrand {
  readonly PositiveInt: unique symbol;
}
/** The brand of NonNegativeInt. */
export interface NonNegativeIntBrand {
  readonly NonNegativeInt: unique symbol;
}
/** The brand of PositiveNumber. */
export interface PositiveNumberBrand {
  readonly PositiveNumber: unique symbol;
}
/** The brand of NonNegativeNumber. */
export interface NonNegativeNumberBrand {
  readonly NonNegativeNumber: unique symbol;
}
/** The brand of NonEmptyString. */
export interface NonEmptyStringBrand {
  readonly NonEmptyString: unique symbol;
}

const named = <C extends t.Any>(codec: C, name: string): C =>
  Object.assign(Object.create(Object.getPrototypeOf(codec) as object) as C, codec, { name });

/** An integer >= 1 (a count, a length in steps). */
export const PositiveInt = named(
  t.brand(
    t.number,
    (n): n is t.Branded<number, PositiveIntBrand> => Number.isSafeInteger(n) && n >= 1,
    "PositiveInt",
  ),
  "a positive integer",
);
/** An integer >= 1. */
export type PositiveInt = t.TypeOf<typeof PositiveInt>;

/** An integer >= 0 (an index, a step, a count that may be zero). */
export const NonNegativeInt = named(
  t.brand(
    t.number,
    (n): n is t.Branded<number, NonNegativeIntBrand> => Number.isSafeInteger(n) && n >= 0,
    "NonNegativeInt",
  ),
  "a non-negative integer",
);
/** An integer >= 0. */
export type NonNegativeInt = t.TypeOf<typeof NonNegativeInt>;

/** A finite number > 0 (a rate, a distance). */
export const PositiveNumber = named(
  t.brand(
    t.number,
    (n): n is t.Branded<number, PositiveNumberBrand> => Number.isFinite(n) && n > 0,
    "PositiveNumber",
  ),
  "a finite number > 0",
);
/** A finite number > 0. */
export type PositiveNumber = t.TypeOf<typeof PositiveNumber>;

/** A finite number >= 0 (a weight decay, a momentum). */
export const NonNegativeNumber = named(
  t.brand(
    t.number,
    (n): n is t.Branded<number, NonNegativeNumberBrand> => Number.isFinite(n) && n >= 0,
    "NonNegativeNumber",
  ),
  "a finite number >= 0",
);
/** A finite number >= 0. */
export type NonNegativeNumber = t.TypeOf<typeof NonNegativeNumber>;

/** A string with at least one character. */
export const NonEmptyString = named(
  t.brand(
    t.string,
    (s): s is t.Branded<string, NonEmptyStringBrand> => s.length > 0,
    "NonEmptyString",
  ),
  "a non-empty string",
);
/** A string with at least one character. */
export type NonEmptyString = t.TypeOf<typeof NonEmptyString>;
