/**
 * @wider/schedules: pure learning-rate schedules for SWA and FGE. A schedule is a function from the
 * 0-based step to the rate; constructors validate once and return it.
 *
 * Errors: constructors and schedules throw a `ScheduleError` as a `WiderFailure` (kind `config`);
 * `fromSpec` returns it as a `Left`.
 */

// constructors
export { constant } from "./constant.js";
export { type CosineOptions, cosine } from "./cosine.js";
// cycles
export { cycleIndex, isCycleEnd, isCycleMidpoint } from "./cycles.js";
export { type CycleOptions, cyclical } from "./cyclical.js";
// errors
export { isScheduleError, type ScheduleError, scheduleError } from "./errors.js";
export { type ExponentialOptions, exponential } from "./exponential.js";
export { join } from "./join.js";
export { type LinearOptions, linear } from "./linear.js";
export { type PiecewiseConstantOptions, piecewiseConstant } from "./piecewiseConstant.js";
// schedule type
export type { Schedule } from "./Schedule.js";
// JSON specs
export { fromSpec, type JoinSpec, MAX_SPEC_DEPTH, ScheduleSpec, scheduleTypes } from "./spec.js";
// reading and plotting
export { type SvgOptions, toSvg } from "./svg.js";
export { type SwalrOptions, swalr } from "./swalr.js";
export {
  type SwaReferenceOptions,
  type SwaReferenceSgdOptions,
  type SwaReferenceSwaOptions,
  swaReference,
} from "./swaReference.js";
export { triangular } from "./triangular.js";
export { values } from "./values.js";
export { type WarmupOptions, warmup } from "./warmup.js";
