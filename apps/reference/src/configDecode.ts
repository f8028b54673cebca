/**
 * Decoding a configuration: a partial one from a file or the flags, and the merge with the
 * defaults that checks relations between fields, with error messages that name the field, the
 * value and what is allowed.
 *
 * @module
 */
import { fromSpec } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { AppError } from "./AppError.js";
import { Config, type ConfigFile, configFields } from "./config.js";

/** What each codec name means, for error messages. */
const allowedText: Record<string, string> = {
  PositiveInt: "an integer >= 1",
  NonNegativeInt: "an integer >= 0",
  PositiveNumber: "a finite number > 0",
  NonNegativeNumber: "a finite number >= 0",
  Momentum: "a number in [0, 1)",
  Workers: "an integer from 1 to 64 (worker threads training the model)",
  string: "a string",
  boolean: "true or false",
};

const show = (v: unknown): string => {
  if (typeof v === "number") return String(v);
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Where a field's value came from, for messages: a file path or `flags`. */
export type Origin = { readonly kind: "file"; readonly path: string } | { readonly kind: "flags" };

/** The flag that sets a field: `batchSize` -> `--batch-size`. */
export const flagOf = (field: string): string =>
  `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const where = (field: string, origin: Origin): string =>
  origin.kind === "flags" ? `flag ${flagOf(field)}` : `field "${field}" in ${origin.path}`;

const allowedFor = (type: t.Decoder<unknown, unknown>): string => {
  if (type instanceof t.KeyofType)
    return `one of ${Object.keys(type.keys)
      .map((k) => `"${k}"`)
      .join(", ")}`;
  if (type instanceof t.UnionType)
    return (type.types as Array<t.Decoder<unknown, unknown>>).map(allowedFor).join(" or ");
  if (type.name === "UnknownRecord")
    return "a schedule spec object (see @wider/schedules fromSpec)";
  if (type.name === "null") return "null";
  return allowedText[type.name] ?? type.name;
};

/**
 * Decodes a partial configuration; unknown fields and bad values give one message naming the
 * field, the value and what is allowed.
 *
 * @example
 * decodePartial({ batchSize: 0 }, { kind: "flags" }) // Left("flag --batch-size: 0 is not allowed; expected an integer >= 1")
 */
export const decodePartial = (input: unknown, origin: Origin): E.Either<AppError, ConfigFile> => {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return E.left(
      new AppError(`${origin.kind === "file" ? origin.path : "config"}: expected a JSON object`),
    );
  const known = new Set<string>(configFields);
  for (const key of Object.keys(input)) {
    if (!known.has(key))
      return E.left(
        new AppError(
          `${origin.kind === "file" ? `${origin.path}: unknown field "${key}"` : `unknown option ${flagOf(key)}`}; allowed: ${configFields.join(", ")}`,
        ),
      );
  }
  const record = input as Record<string, unknown>;
  for (const field of configFields) {
    if (!(field in record) || record[field] === undefined) continue;
    const codec = Config.props[field] as t.Decoder<unknown, unknown>;
    const value = record[field];
    if (codec.decode(value)._tag === "Left")
      return E.left(
        new AppError(
          `${where(field, origin)}: ${show(value)} is not allowed; expected ${allowedFor(codec)}`,
        ),
      );
  }
  return E.right(record as ConfigFile);
};

/** Merges defaults, then a file, then flags, and checks relations between fields. */
export const resolveConfig = (
  base: Config,
  ...layers: ReadonlyArray<ConfigFile>
): E.Either<AppError, Config> => {
  let merged: Config = base;
  for (const layer of layers) {
    const defined = Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined));
    merged = { ...merged, ...defined } as Config;
  }
  if (merged.swaStart >= merged.epochs)
    return E.left(
      new AppError(
        `swaStart: ${merged.swaStart} is not allowed; expected an epoch below epochs (${merged.epochs})`,
      ),
    );
  const post = merged.epochs - merged.swaStart;
  if (merged.swaEvery > post)
    return E.left(
      new AppError(
        `swaEvery: ${merged.swaEvery} is not allowed; expected at most epochs - swaStart (${post}), so that SWA averages at least once`,
      ),
    );
  if (merged.fgeCycle >= 2 * post)
    return E.left(
      new AppError(
        `fgeCycle: ${merged.fgeCycle} is not allowed; expected below 2 * (epochs - swaStart) (${2 * post}), so that FGE reaches a cycle's midpoint`,
      ),
    );
  if (merged.swagRank === 1)
    return E.left(
      new AppError(
        "swagRank: 1 is not allowed; expected 0 (no SWAG) or at least 2 deviations (the low-rank part divides by K - 1)",
      ),
    );
  if (merged.trajectoryGrid === 1)
    return E.left(
      new AppError(
        "trajectoryGrid: 1 is not allowed; expected 0 (no trajectory analysis) or a grid of at least 2",
      ),
    );
  if (merged.fgeLrMin > merged.fgeLrMax)
    return E.left(
      new AppError(
        `fgeLrMin: ${merged.fgeLrMin} is not allowed; expected at most fgeLrMax (${merged.fgeLrMax})`,
      ),
    );
  for (const field of ["pretrainSchedule", "swaSchedule"] as const) {
    const spec = merged[field];
    if (spec === null) continue;
    const s = fromSpec(spec);
    if (E.isLeft(s)) return E.left(new AppError(`${field}: ${s.left.message}`));
  }
  if (merged.out.trim() === "")
    return E.left(new AppError(`out: "" is not allowed; expected a directory path`));
  return E.right(merged);
};
