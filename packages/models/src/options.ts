/**
 * The option codecs every model shares (input shape, classes, seed) and `decodeOptions`, which
 * checks an options object against a model's fields and names the first bad one.
 *
 * @module options
 */
import { decode, excess } from "@wider/errors";
import { type Either, left, right } from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { invalidSpec, type ModelsError } from "./errors.js";
import { maxSeed } from "./seeds.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** Options every model takes. */
export interface CommonOptions {
  /** `[height, width, channels]` of one input image (channels last). */
  readonly inputShape?: readonly [number, number, number];
  /** Number of classes (units of the logits layer). */
  readonly classes?: number;
  /** Initialisation seed, an integer in `[0, 2^31 - 1]`; default 1. Same seed, same weights. */
  readonly seed?: number;
}

/** `CommonOptions` with every field resolved. */
export interface Common {
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  readonly seed: number;
}

// -------------------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------------------

/** A number codec named by what it accepts, so error messages read "expected a positive integer". */
const numberWhere = (name: string, ok: (n: number) => boolean): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === "number" && ok(u),
    (u, c) => (typeof u === "number" && ok(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  );

/** A positive integer. */
export const PositiveInt = numberWhere(
  "a positive integer",
  (n) => Number.isInteger(n) && n > 0 && n <= 2 ** 30,
);

/** A model seed. */
export const Seed = numberWhere(
  `an integer from 0 to ${maxSeed}`,
  (n) => Number.isInteger(n) && n >= 0 && n <= maxSeed,
);

/** A dropout rate. */
export const DropoutRate = numberWhere(
  "a number in [0, 1)",
  (n) => Number.isFinite(n) && n >= 0 && n < 1,
);

/** `[height, width, channels]`, three positive integers. */
export const InputShape = new t.Type<
  readonly [number, number, number],
  readonly [number, number, number],
  unknown
>(
  "[height, width, channels] of positive integers, e.g. [28, 28, 1]",
  (u): u is readonly [number, number, number] =>
    Array.isArray(u) && u.length === 3 && u.every((v) => PositiveInt.is(v)),
  (u, c) =>
    Array.isArray(u) && u.length === 3 && u.every((v) => PositiveInt.is(v))
      ? t.success(u as unknown as readonly [number, number, number])
      : t.failure(u, c),
  t.identity,
);

/** A non-empty list of positive integers (layer widths). */
export const Widths = new t.Type<readonly number[], readonly number[], unknown>(
  "a non-empty array of positive integers",
  (u): u is readonly number[] =>
    Array.isArray(u) && u.length > 0 && u.every((v) => PositiveInt.is(v)),
  (u, c) =>
    Array.isArray(u) && u.length > 0 && u.every((v) => PositiveInt.is(v))
      ? t.success(u as readonly number[])
      : t.failure(u, c),
  t.identity,
);

/** The fields of `CommonOptions`. */
export const commonProps = { inputShape: InputShape, classes: PositiveInt, seed: Seed };

// -------------------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks `input` (an options object, or undefined for all defaults) against `props`: no unknown
 * field, every given field of the right type (`@wider/errors`' `decode` and `excess`). The error
 * names the field under `path`, the value and what is expected. `ignore` lists fields the caller
 * handles (a spec's `kind`).
 */
export const decodeOptions = <P extends t.Props>(
  props: P,
  input: unknown,
  path: string,
  ignore: readonly string[] = [],
): Either<ModelsError, Partial<t.TypeOfProps<P>>> => {
  if (input === undefined) return right({});
  if (!isRecord(input))
    return left(
      invalidSpec(path, `got ${JSON.stringify(input)}; expected an object of options`, input),
    );
  const own = Object.fromEntries(Object.entries(input).filter(([k]) => !ignore.includes(k)));
  return decode(excess(t.partial(props)), own, { tag: "ModelsError", root: path });
};

/** Resolves the common options against the model's defaults. */
export const resolveCommon = (o: CommonOptions, defaults: Common): Common => ({
  inputShape: o.inputShape ?? defaults.inputShape,
  classes: o.classes ?? defaults.classes,
  seed: o.seed ?? defaults.seed,
});
