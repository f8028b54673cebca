/**
 * `@wider/errors`: the one error shape of every Wider package and the shared io-ts codec layer.
 *
 * @example
 * import { decode, excess, PositiveInt } from "@wider/errors";
 * import * as t from "io-ts";
 * decode(excess(t.type({ cycle: PositiveInt })), { cycle: 0 }, { tag: "ScheduleError" });
 * // Left({ _tag: "ScheduleError", kind: "config", path: "$.cycle", value: 0,
 * //        message: "$.cycle is 0; expected a positive integer" })
 *
 * @packageDocumentation
 */
export type {
  DecodeOptions,
  NonEmptyStringBrand,
  NonNegativeIntBrand,
  NonNegativeNumberBrand,
  PositiveIntBrand,
  PositiveNumberBrand,
  Problem,
} from "./codec.js";
export {
  decode,
  errorFromValidation,
  excess,
  knownKeys,
  NonEmptyString,
  NonNegativeInt,
  NonNegativeNumber,
  orThrow,
  PositiveInt,
  PositiveNumber,
  reportErrors,
  showProblem,
  showValue,
} from "./codec.js";
export type { ErrorDetails, ErrorKind, WiderError } from "./WiderError.js";
export {
  describe,
  errorFor,
  errorKinds,
  isWiderError,
  raise,
  WiderFailure,
  widerError,
} from "./WiderError.js";
