/**
 * SWA in `model.fit` with one step counter: one callback sets the learning rate from a schedule
 * and folds the model into the average, both on the same global step.
 *
 * Why one callback: `join` re-bases the step of each of its pieces, while a policy given the
 * absolute step does not; two callbacks (`learningRateScheduler` + `averagingCallback`) also keep
 * two counters. With `join([constant(0.05), cyclical({ ..., cycle: 100 })], [1050])`,
 * `atCycleEnds(100)` on absolute steps collects at steps 1099, 1199, ..., half-way down each
 * cycle, instead of at 1149, 1249, ... where the rate is at its minimum.
 *
 * @module
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { raise } from "@wider/errors";
import type { Schedule } from "@wider/schedules";
import { fromModel, type Include, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { type Averager, type AveragerState, disposeState } from "./Averager.js";
import { fail } from "./errors.js";
import { setLearningRate } from "./learningRate.js";
import { atCycleEnds, type Policy } from "./policy.js";
import { assertOwnCallback, assertOwnLayersModel } from "./sameTfjs.js";
import { swa } from "./swa.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * When to collect, on the step RE-BASED to `start` (`s = step - start`, as `join(..., [start])`
 * re-bases the piece that starts there): `{ cycle: c }` collects at `s = c - 1, 2c - 1, ...`, the
 * last step of each `c`-step cycle counted from `start` (where `cyclical` reaches `low`); a
 * {@link Policy} is called with `s` (e.g. `when({ every: 10 })` or `atCycleEnds(c)`).
 */
export type Collect = Policy | { readonly cycle: number };

/** Options of {@link SwaCallback}. */
export interface SwaCallbackOptions {
  /**
   * The learning rate at every 0-based global step (batch), pre-training included, e.g.
   * `join([constant(0.05), cyclical({ high: 0.05, low: 0.005, cycle: 100 })], [start])`.
   */
  readonly schedule: Schedule;
  /** The first global step at which the model may be collected (the SWA phase's boundary in `schedule`). */
  readonly start: number;
  /** When to collect, re-based to `start`; see {@link Collect}. */
  readonly collect: Collect;
  /** The averager (default `swa()`, the equal-weight running mean). */
  readonly averager?: Averager;
  /** Which weights to average (default `"all"`, so BatchNorm statistics are averaged too). */
  readonly include?: Include;
  /** To resume: the global step of the first batch (default 0), e.g. a saved `callback.step`. */
  readonly initialStep?: number;
  /** To resume: the averager state to continue (e.g. from `loadState`); the callback takes ownership. */
  readonly initialState?: AveragerState;
}

/** One collection: the global step and the learning rate that step's update used. */
export interface Collection {
  readonly step: number;
  readonly rate: number;
}

// -------------------------------------------------------------------------------------
// internal
// -------------------------------------------------------------------------------------

const checkStepOption = (field: string, value: number, min: number): void => {
  if (!Number.isSafeInteger(value) || value < min) {
    fail("config", `swaCallback: ${field} is ${value}; use an integer >= ${min}`, {
      path: field,
      value,
      fix: `an integer >= ${min}`,
    });
  }
};

/**
 * For `{ cycle }`: each collection step must have the lowest rate of its cycle, else `start` is not
 * aligned with the schedule's cycles (the trap this callback exists to avoid). Checked on the
 * first two cycles (`2 * cycle` schedule evaluations), which catches a `start` off by any amount
 * for a periodic schedule.
 */
const checkCycleAligned = (schedule: Schedule, start: number, cycle: number): void => {
  for (let k = 0; k < 2; k++) {
    const first = start + k * cycle;
    const end = first + cycle - 1;
    const atEnd = schedule(end);
    let lowest = atEnd;
    let lowestStep = end;
    for (let s = first; s < end; s++) {
      const r = schedule(s);
      if (r < lowest) {
        lowest = r;
        lowestStep = s;
      }
    }
    // Allow rounding noise of the schedule's arithmetic.
    if (atEnd - lowest > 1e-9 * Math.abs(lowest)) {
      fail(
        "config",
        `swaCallback: collect { cycle: ${cycle} } from start ${start} collects at step ${end}, where the rate is ${atEnd}, ` +
          `but the rate in that cycle (steps ${first}..${end}) goes down to ${lowest} at step ${lowestStep}; ` +
          `set start to the step where the schedule's cycles begin (the join boundary), or pass a policy as collect`,
        {
          path: "start",
          value: start,
          fix: "set start to the step where the schedule's cycles begin (the join boundary), or pass a policy as collect",
        },
      );
    }
  }
};

// -------------------------------------------------------------------------------------
// callback
// -------------------------------------------------------------------------------------

/**
 * A `model.fit` callback for SWA owning ONE global step counter (batches, across epochs and `fit`
 * calls): before batch `step` it sets the optimizer's rate to `schedule(step)`; after it, if
 * `step >= start` and `collect` holds for `step - start`, it folds the model's weights (as that
 * step's update left them) into the average. Read the average with {@link SwaCallback.averaged}
 * (owned by the callback: swap it into the model with `withWeights` from `@wider/weights`, copy
 * it with `clone`); free it with `dispose()`. Throws (failing `fit`) if the optimizer's rate
 * cannot be set.
 */
export class SwaCallback extends tfl.Callback {
  /** The global step of the next batch (save it with the state to resume). */
  step: number;
  /** The averager state (owned by the callback). */
  state: AveragerState;
  private readonly schedule: Schedule;
  private readonly start: number;
  private readonly collectAt: Policy;
  private readonly averager: Averager;
  private readonly include: Include;
  private readonly made: Collection[] = [];
  private rate: number | null = null;

  constructor(options: SwaCallbackOptions) {
    super();
    if (typeof options.schedule !== "function") {
      fail(
        "config",
        "swaCallback: schedule is not a function; pass a schedule from @wider/schedules, e.g. join([...], [start])",
        { path: "schedule", fix: "a schedule from @wider/schedules, e.g. join([...], [start])" },
      );
    }
    checkStepOption("start", options.start, 0);
    const initialStep = options.initialStep ?? 0;
    checkStepOption("initialStep", initialStep, 0);
    const { collect } = options;
    if (typeof collect === "function") {
      this.collectAt = collect;
    } else if (typeof collect === "object" && collect !== null && "cycle" in collect) {
      checkStepOption("collect.cycle", collect.cycle, 1);
      checkCycleAligned(options.schedule, options.start, collect.cycle);
      this.collectAt = atCycleEnds(collect.cycle);
    } else {
      fail(
        "config",
        `swaCallback: collect is ${JSON.stringify(collect)}; use { cycle: n } or a policy such as when({ every: 10 })`,
        {
          path: "collect",
          value: collect,
          fix: "{ cycle: n } or a policy such as when({ every: 10 })",
        },
      );
    }
    this.schedule = options.schedule;
    this.start = options.start;
    this.averager = options.averager ?? swa();
    this.include = options.include ?? "all";
    this.step = initialStep;
    this.state = options.initialState ?? this.averager.init();
  }

  /** The averaged weights (owned by the callback), or `null` before the first collection. */
  get averaged(): Weights | null {
    return this.state.mean;
  }

  /** The collections this callback made (not those of a resumed state), in order. */
  get collections(): readonly Collection[] {
    return this.made;
  }

  /** Fails early, with the fix, when the model comes from another tfjs-layers copy. */
  override async onTrainBegin(): Promise<void> {
    assertOwnCallback(this, SwaCallback, "SwaCallback");
  }

  /** Sets the model; refuses one from another copy of @tensorflow/tfjs-layers. */
  override setModel(model: tfl.LayersModel): void {
    assertOwnLayersModel(model, "SwaCallback");
    super.setModel(model);
  }

  override async onBatchBegin(): Promise<void> {
    assertOwnCallback(this, SwaCallback, "SwaCallback");
    const rate = this.schedule(this.step);
    const set = setLearningRate(this.model.optimizer, rate);
    if (E.isLeft(set)) raise({ ...set.left, message: `swaCallback: ${set.left.message}` });
    this.rate = rate;
  }

  override async onBatchEnd(): Promise<void> {
    assertOwnCallback(this, SwaCallback, "SwaCallback");
    const step = this.step;
    if (step >= this.start && this.collectAt(step - this.start)) {
      const w = fromModel(this.model, { include: this.include });
      try {
        this.state = this.averager.update(this.state, w);
      } finally {
        for (const t of Object.values(w)) t.dispose();
      }
      this.made.push({ step, rate: this.rate ?? this.schedule(step) });
    }
    this.rate = null;
    this.step = step + 1;
  }

  /** Frees the state's tensors and resets it to the averager's initial state. */
  dispose(): void {
    disposeState(this.state);
    this.state = this.averager.init();
  }
}

/**
 * Factory for {@link SwaCallback}: SWA added to an existing `fit`, rate and averaging on one step.
 *
 * @example
 * const cb = swaCallback({
 *   schedule: join([constant(0.05), cyclical({ high: 0.05, low: 0.005, cycle: 100 })], [1050]),
 *   start: 1050,
 *   collect: { cycle: 100 }, // steps 1149, 1249, ...: each at rate 0.005
 * });
 * await model.fit(x, y, { epochs: 30, callbacks: [cb] });
 * const loss = await withWeights(model, cb.averaged!, () => model.evaluate(xTest, yTest));
 */
export const swaCallback = (options: SwaCallbackOptions): SwaCallback => new SwaCallback(options);
