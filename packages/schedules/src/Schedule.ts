/**
 * A learning-rate schedule: the rate to use at a 0-based step (iteration).
 *
 * Every constructor in this package validates its arguments once and returns such a closure.
 * The closure throws a `ScheduleError` for a step that is not an integer `>= 0`.
 *
 * @example
 * const s: Schedule = constant(0.05); s(0) // 0.05
 */
export type Schedule = (step: number) => number;
