/**
 * The error type of this package, and the argument checks every constructor shares.
 *
 * Constructors throw a `ScheduleError` (a programmer's mistake: the arguments are in the code);
 * `fromSpec` returns one as a `Left` (a user's mistake: the arguments came from a file).
 */

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * An invalid schedule argument: `path` names the field (`cycle`, `$.schedules[1].cycle`),
 * `value` is what was given and `allowed` says what would be accepted.
 *
 * @example
 * try { cyclical({ high: 0.05, low: 0.001, cycle: 0 }) } catch (e) { (e as ScheduleError).path } // "cycle"
 */
export class ScheduleError extends Error {
  override readonly name = "ScheduleError";

  constructor(
    /** The field that is wrong, e.g. `cycle`, `boundaries[2]` or `$.schedules[1].cycle`. */
    readonly path: string,
    /** The value that was given (`undefined` when the field is missing). */
    readonly value: unknown,
    /** What would be accepted, e.g. `a positive integer (the cycle length in steps)`. */
    readonly allowed: string,
    /** The constructor or spec type the field belongs to, e.g. `cyclical`. */
    readonly where?: string,
  ) {
    super(
      `${where === undefined ? "" : `${where}: `}${path} ${
        value === undefined ? "is missing" : `is ${showValue(value)}`
      }; expected ${allowed}`,
    );
  }

  /** The same error with its path placed under `prefix` (e.g. `$.schedules[1]`). */
  under(prefix: string): ScheduleError {
    const path = this.path.startsWith("[") ? `${prefix}${this.path}` : `${prefix}.${this.path}`;
    return new ScheduleError(path, this.value, this.allowed, this.where);
  }
}

/** Shows a value in an error message: numbers as JS prints them (NaN, Infinity), the rest as JSON. */
export const showValue = (value: unknown): string => {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "function") return "a function";
  try {
    const json = JSON.stringify(value);
    if (json === undefined) return String(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return String(value);
  }
};

// -------------------------------------------------------------------------------------------------
// checks (each throws a ScheduleError naming the field)
// -------------------------------------------------------------------------------------------------

const isNumber = (v: unknown): v is number => typeof v === "number";

/** Checks a finite number (any sign). */
export const checkFinite = (where: string, path: string, v: unknown): number => {
  if (!isNumber(v) || !Number.isFinite(v))
    throw new ScheduleError(path, v, "a finite number", where);
  return v;
};

/** Checks a learning rate: a finite number `>= 0`. */
export const checkRate = (where: string, path: string, v: unknown): number => {
  if (!isNumber(v) || !Number.isFinite(v) || v < 0)
    throw new ScheduleError(path, v, "a finite learning rate >= 0", where);
  return v;
};

/** Checks a finite number `> 0`. */
export const checkPositive = (where: string, path: string, v: unknown): number => {
  if (!isNumber(v) || !Number.isFinite(v) || v <= 0)
    throw new ScheduleError(path, v, "a finite number > 0", where);
  return v;
};

/** Checks an integer `>= 1`. */
export const checkPositiveInt = (
  where: string,
  path: string,
  v: unknown,
  what = "a positive integer",
): number => {
  if (!isNumber(v) || !Number.isInteger(v) || v < 1) throw new ScheduleError(path, v, what, where);
  return v;
};

/** Checks an integer `>= 0`. */
export const checkNonNegativeInt = (
  where: string,
  path: string,
  v: unknown,
  what = "an integer >= 0",
): number => {
  if (!isNumber(v) || !Number.isInteger(v) || v < 0) throw new ScheduleError(path, v, what, where);
  return v;
};

/** Checks a cycle length: an integer `>= 1`, or an even integer `>= 2` when `even`. */
export const checkCycle = (where: string, v: unknown, even = false): number => {
  if (even) {
    if (!isNumber(v) || !Number.isInteger(v) || v < 2 || v % 2 !== 0)
      throw new ScheduleError(
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
    throw new ScheduleError("step", step, "an integer >= 0 (the 0-based iteration)", where);
};

/** Checks an array of numbers, each checked by `each` at path `name[i]`. */
export const checkArray = (
  where: string,
  name: string,
  v: unknown,
  each: (where: string, path: string, x: unknown) => number,
): readonly number[] => {
  if (!Array.isArray(v)) throw new ScheduleError(name, v, "an array of numbers", where);
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
      throw new ScheduleError(
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
