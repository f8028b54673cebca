/**
 * JSON schedule specs: an io-ts codec for their shape and `fromSpec`, which also checks their
 * values and builds the schedule, returning errors as values.
 */
import { decode, excess, knownKeys, WiderFailure } from "@wider/errors";
import { type Either, isLeft, left, right } from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { constant } from "./constant.js";
import { cosine } from "./cosine.js";
import { cyclical } from "./cyclical.js";
import { fail, isScheduleError, type ScheduleError, under } from "./errors.js";
import { exponential } from "./exponential.js";
import { join } from "./join.js";
import { linear } from "./linear.js";
import { piecewiseConstant } from "./piecewiseConstant.js";
import type { Schedule } from "./Schedule.js";
import { swalr } from "./swalr.js";
import { type SwaReferenceOptions, swaReference } from "./swaReference.js";
import { triangular } from "./triangular.js";
import { warmup } from "./warmup.js";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** `t.number` named for messages ("expected a number"). */
const n = new t.Type<number, number, unknown>(
  "a number",
  t.number.is,
  t.number.validate,
  t.identity,
);
/** `t.boolean` named for messages. */
const bool = new t.Type<boolean, boolean, unknown>(
  "true or false",
  t.boolean.is,
  t.boolean.validate,
  t.identity,
);
const numbers = t.array(n, "an array of numbers");
const lit = <L extends string>(l: L) => t.literal(l);

/** The codecs of the leaf (non-`join`) specs, by `type` tag. */
const leafCodecs = {
  constant: t.type({ type: lit("constant"), value: n }),
  linear: t.type({ type: lit("linear"), from: n, to: n, steps: n }),
  cosine: t.type({ type: lit("cosine"), from: n, to: n, steps: n }),
  exponential: t.intersection([
    t.type({ type: lit("exponential"), from: n, decay: n, steps: n }),
    t.partial({ staircase: bool }),
  ]),
  piecewiseConstant: t.type({
    type: lit("piecewiseConstant"),
    boundaries: numbers,
    values: numbers,
  }),
  warmup: t.type({ type: lit("warmup"), steps: n, to: n }),
  cyclical: t.type({ type: lit("cyclical"), high: n, low: n, cycle: n }),
  triangular: t.type({ type: lit("triangular"), high: n, low: n, cycle: n }),
  swaReference: t.intersection([
    t.type({ type: lit("swaReference"), lrInit: n, stepsPerEpoch: n }),
    t.partial({ swaLr: n, swaStart: n, epochs: n }),
  ]),
  swalr: t.intersection([
    t.type({ type: lit("swalr"), from: n, to: n, annealSteps: n }),
    t.partial({ strategy: t.union([lit("cos"), lit("linear")], '"cos" or "linear"') }),
  ]),
};

type LeafSpec = {
  [K in keyof typeof leafCodecs]: t.TypeOf<(typeof leafCodecs)[K]>;
}[keyof typeof leafCodecs];

/** A `join` spec: pieces and the steps where each piece after the first starts. */
export interface JoinSpec {
  readonly type: "join";
  readonly schedules: readonly ScheduleSpec[];
  readonly boundaries: readonly number[];
}

/**
 * A JSON schedule spec: `{ "type": <constructor name>, ...its options }`, `join` nesting others,
 * e.g. `{ "type": "cyclical", "high": 0.05, "low": 0.001, "cycle": 390 }`. `constant` takes
 * `{ "value": lr }`.
 */
export type ScheduleSpec = LeafSpec | JoinSpec;

const joinCodec = (self: t.Type<ScheduleSpec>) =>
  t.type({
    type: lit("join"),
    schedules: t.readonlyArray(self),
    boundaries: t.readonlyArray(n, "an array of numbers"),
  });

/**
 * io-ts codec of {@link ScheduleSpec}: `ScheduleSpec.decode(json)` checks the shape only (field
 * names and JSON types); {@link fromSpec} also checks the values and builds the schedule.
 */
export const ScheduleSpec: t.Type<ScheduleSpec> = t.recursion("ScheduleSpec", (self) =>
  t.union([
    leafCodecs.constant,
    leafCodecs.linear,
    leafCodecs.cosine,
    leafCodecs.exponential,
    leafCodecs.piecewiseConstant,
    leafCodecs.warmup,
    leafCodecs.cyclical,
    leafCodecs.triangular,
    leafCodecs.swaReference,
    leafCodecs.swalr,
    joinCodec(self),
  ]),
);

/** The `type` tags a spec may have. */
export const scheduleTypes = [...Object.keys(leafCodecs), "join"] as readonly string[];

// -------------------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------------------

const shallowJoin = t.type({
  type: lit("join"),
  schedules: t.array(t.unknown, "an array of schedule specs"),
  boundaries: numbers,
});

/** Each spec type's codec, refusing unknown fields (typos such as `hihg`). */
const strictCodecs: Readonly<Record<string, t.Mixed>> = Object.fromEntries([
  ...Object.entries(leafCodecs).map(([k, c]) => [k, excess(c)] as const),
  ["join", excess(shallowJoin)] as const,
]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * How deeply `join`s may nest in a spec given to {@link fromSpec}; deeper is a `Left` (one `join`
 * takes any number of pieces, so a deeper spec can always be flattened).
 */
export const MAX_SPEC_DEPTH = 64;

/** Builds a schedule from a spec at `path`, throwing a ScheduleError whose path starts at `path`. */
const build = (json: unknown, path: string, depth: number): Schedule => {
  if (!isRecord(json)) fail(path, json, `a schedule spec object with a "type" field`);
  const type = json.type;
  if (typeof type !== "string" || !scheduleTypes.includes(type))
    fail(`${path}.type`, type, `one of ${scheduleTypes.map((s) => `"${s}"`).join(", ")}`);
  if (type === "join" && depth >= MAX_SPEC_DEPTH)
    fail(
      path,
      `${depth + 1} levels of nested joins`,
      `at most ${MAX_SPEC_DEPTH} levels of nested joins (one join takes any number of pieces: flatten the spec)`,
      "join",
    );
  const codec = strictCodecs[type] as t.Mixed;
  const decoded = decode(codec, json, {
    tag: "ScheduleError",
    root: path,
    where: type,
    fix: `a "${type}" spec has the fields ${[...(knownKeys(codec) ?? [])].join(", ")}`,
  });
  if (isLeft(decoded)) throw new WiderFailure(decoded.left);
  const spec = decoded.right as LeafSpec | t.TypeOf<typeof shallowJoin>;
  try {
    return construct(spec, path, depth);
  } catch (e) {
    if (isScheduleError(e) && !(e.path ?? "").startsWith(path))
      throw new WiderFailure(under(path, e));
    throw e;
  }
};

const construct = (
  spec: LeafSpec | t.TypeOf<typeof shallowJoin>,
  path: string,
  depth: number,
): Schedule => {
  switch (spec.type) {
    case "constant":
      try {
        return constant(spec.value);
      } catch (e) {
        // constant(lr) names its argument `lr`; the spec field is `value`.
        if (isScheduleError(e)) fail(`${path}.value`, e.value, e.fix ?? "a rate", "constant");
        throw e;
      }
    case "linear":
      return linear(spec);
    case "cosine":
      return cosine(spec);
    case "exponential":
      return exponential({
        from: spec.from,
        decay: spec.decay,
        steps: spec.steps,
        ...(spec.staircase === undefined ? {} : { staircase: spec.staircase }),
      });
    case "piecewiseConstant":
      return piecewiseConstant(spec);
    case "warmup":
      return warmup(spec);
    case "cyclical":
      return cyclical(spec);
    case "triangular":
      return triangular(spec);
    case "swaReference": {
      const { lrInit, stepsPerEpoch, swaLr, swaStart, epochs } = spec;
      const opts = {
        lrInit,
        stepsPerEpoch,
        ...(swaLr === undefined ? {} : { swaLr }),
        ...(swaStart === undefined ? {} : { swaStart }),
        ...(epochs === undefined ? {} : { epochs }),
      };
      // The union is checked at run time by swaReference (missing swaStart / epochs).
      return swaReference(opts as SwaReferenceOptions);
    }
    case "swalr":
      return swalr({
        from: spec.from,
        to: spec.to,
        annealSteps: spec.annealSteps,
        ...(spec.strategy === undefined ? {} : { strategy: spec.strategy }),
      });
    case "join": {
      const pieces = spec.schedules.map((s, i) => build(s, `${path}.schedules[${i}]`, depth + 1));
      return join(pieces, spec.boundaries);
    }
  }
};

/**
 * Builds a schedule from a JSON spec (user input): `Right(schedule)`, or `Left(ScheduleError)`
 * whose message names the field path (from `$`), the value given and what is allowed.
 *
 * @example
 * fromSpec({ type: "cyclical", high: 0.05, low: 0.001, cycle: 0 })
 * // Left: "cyclical: $.cycle is 0; expected a positive integer (the cycle length in steps)"
 */
export const fromSpec = (json: unknown): Either<ScheduleError, Schedule> => {
  try {
    return right(build(json, "$", 0));
  } catch (e) {
    if (e instanceof WiderFailure && isScheduleError(e)) return left(e.toError());
    throw e;
  }
};
