/**
 * The error type of this package, and the argument checks every constructor shares.
 *
 * Constructors throw a `ScheduleError` as a `WiderFailure` (a programmer's mistake: the arguments
 * are in the code); `fromSpec` returns one as a `Left` (a user's mistake: the arguments came from a
 * file). Every one has kind `config`.
 */
import {
  errorFor,
  isWiderError,
  showValue,
  type WiderError,
  WiderFailure,
  widerError,
} from "@wider/errors";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * An invalid schedule argument (kind `config`): `path` names the field (`cycle`,
 * `$.schedules[1].cycle`), `value` is what was given and `fix` says what would be accepted.
 *
 * @example
 * try { cyclical({ high: 0.05, low: 0.001, cycle: 0 }) } catch (e) { if (isWiderError(e)) e.path } // "cycle"
 */
export type ScheduleError = WiderError<"ScheduleError">;

/** Builds a {@link fail } value from its kind, message and details. */
export const scheduleError = errorFor("ScheduleError");

/** Shows a value in a message: functions as "a function", the rest as `@wider/errors` does. */
const show = (value: unknown): string =>
  typeof value === "function" ? "a function" : showValue(value);

/**
 * The {@link fail } for field `path` of `where` (a constructor or spec type) holding
 * `value` where `expected` is accepted: "cyclical: cycle is 0; expected a positive integer".
 */
export const invalid = (
  path: string,
  value: unknown,
  expected: string,
  where?: string,
): ScheduleError =>
  scheduleError(
    "config",
    `${where === undefined ? "" : `${where}: `}${path} ${
      value === undefined ? "is missing" : `is ${show(value)}`
    }; expected ${expected}`,
    { path, value, fix: expected },
  );

/** Throws {@link invalid}'s error as a `WiderFailure` (a programmer's mistake). */
export function fail(path: string, value: unknown, expected: string, where?: string): never {
  throw new WiderFailure(invalid(path, value, expected, where));
}

/** True for a {@link fail }, thrown or returned. */
export const isScheduleError = (u: unknown): u is ScheduleError =>
  isWiderError(u) && u._tag === "ScheduleError";

/** The same error with its path placed under `prefix` (e.g. `$.schedules[1]`), in message too. */
export const under = (prefix: string, error: ScheduleError): ScheduleError => {
  const old = error.path ?? "";
  const path = old.startsWith("[") ? `${prefix}${old}` : `${prefix}.${old}`;
  // The message is "[where: ]<path> is ...": `where` is a name without spaces, so the first
  // "<path> is" at the start or after ": " is the path.
  const m = error.message;
  const after = m.indexOf(`: ${old} is`);
  const at = m.startsWith(`${old} is`) ? 0 : after < 0 ? -1 : after + 2;
  const message = at < 0 ? m : `${m.slice(0, at)}${path}${m.slice(at + old.length)}`;
  return widerError(error._tag, error.kind, message, { ...error, path });
};

// -------------------------------------------------------------------------------------------------
// checks (each throws a ScheduleError naming the field)
// -------------------------------------------------------------------------------------------------

const isNumber = (v: unknown): v is number => typeof v === "number";

/** Checks a finite number (any sign). */
export const checkFinite = (where: string, path: string, v: unknown): number => {
  if (!isNumber(v) || !Number.isFinite(v)) fail(path, v, "a finite number", where);
  return v;
};

/** Checks a learning rate: a finite number `>= 0`. */
export const checkRate = (where: string, path: string, v: unknown): number => {
  if (!isNumber(v) || !Number.isFinite(v) || v < 0)
    fail(path, v, "a finite learning rate >= 0", where);
  return v;
};

/** Checks a finite number `> 0`. */
export const checkPositive = (where: string, path: string, v: unknown): number => {
  if (!isNumber(v) || !Number.isFinite(v) || v <= 0) fail(path, v, "a finite number > 0", where);
  return v;
};

/** Checks an integer `>= 1`. */
export const checkPositiveInt = (
  where: string,
  path: string,
  v: unknown,
  what = "a positive integer",
): number => {
  if (!isNumber(v) || !Number.isInteger(v) || v < 1) fail(path, v, what, where);
  return v;
};

/** Checks an integer `>= 0`. */
export const checkNonNegativeInt = (
  where: string,
  path: string,
  v: unknown,
  what = "an integer >= 0",
): number => {
  if (!isNumber(v) || !Number.isInteger(v) || v < 0) fail(path, v, what, where);
  return v;
};

/** Checks a cycle length: an integer `>= 1`, or an even integer `>= 2` when `even`. */
export const checkCycle = (where: string, v: unknown, even = false): number => {
  if (even) {
    if (!isNumber(v) || !Number.isInteger(v) || v < 2 || v % 2 !== 0)
      fail(
        "cycle",
        v,
        "an even integer >= 2 (the cycle length in steps; even so that step cycle/2 is the midpoint)",
        where,
      );
    return v;
  }
  return checkPositiveInt(where, "cycle", v, "a positive integer (the cycle length in steps)");
};

/** Checks a step passed to a schedule: an integer `>= 0` (the 0-based iteration). */
export const checkStep = (where: string, step: number): void => {
  if (!Number.isInteger(step) || step < 0)
    fail("step", step, "an integer >= 0 (the 0-based iteration)", where);
};

/** Checks an array of numbers, each checked by `each` at path `name[i]`. */
export const checkArray = (
  where: string,
  name: string,
  v: unknown,
  each: (where: string, path: string, x: unknown) => number,
): readonly number[] => {
  if (!Array.isArray(v)) fail(name, v, "an array of numbers", where);
  return v.map((x: unknown, i) => each(where, `${name}[${i}]`, x));
};

/** Checks strictly increasing integer boundaries, the first `>= min`. */
export const checkBoundaries = (where: string, v: unknown, min: number): readonly number[] => {
  const bs = checkArray(where, "boundaries", v, (w, p, x) =>
    checkNonNegativeInt(w, p, x, "an integer step >= 0"),
  );
  bs.forEach((b, i) => {
    const prev = i === 0 ? min - 1 : (bs[i - 1] as number);
    if (b <= prev)
      fail(
        `boundaries[${i}]`,
        b,
        i === 0
          ? `an integer step >= ${min}`
          : `an integer step > boundaries[${i - 1}] = ${prev} (boundaries strictly increase)`,
        where,
      );
  });
  return bs;
};
