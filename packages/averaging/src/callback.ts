/**
 * A `model.fit` callback that updates an averager on a policy after each batch.
 *
 * @module
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { fromModel, type Include } from "@wider/weights";
import { type Averager, type AveragerState, disposeState } from "./Averager.js";
import type { Policy } from "./policy.js";
import { assertOwnCallback, assertOwnLayersModel } from "./sameTfjs.js";

/** Options of {@link AveragingCallback}. */
export interface AveragingCallbackOptions {
  /** The averager, e.g. `swa()` or `ema({ decay: 0.999 })`. */
  readonly averager: Averager;
  /**
   * At which 0-based ABSOLUTE global steps (batches) to update, e.g. `when({ start: 1000 })`. The
   * step is not re-based: with a `join`ed learning-rate schedule use `swaCallback`, which sets
   * the rate and collects on one counter.
   */
  readonly policy: Policy;
  /** Which weights to average (default `"all"`, so the averager's `buffers` option applies). */
  readonly include?: Include;
  /** A state to continue from (e.g. from `loadState`); the callback takes ownership. */
  readonly initialState?: AveragerState;
  /** The step of the first batch (default 0), to resume a run. */
  readonly initialStep?: number;
}

/**
 * After each batch, if `policy(step)`, folds the model's current weights into the running state;
 * `step` counts batches across epochs and `fit` calls. The callback owns `state` (read it, or
 * swap it into the model with `withWeights` from `@wider/weights`); free it with `dispose()`.
 */
export class AveragingCallback extends tfl.Callback {
  /** The current averager state (owned by the callback). */
  state: AveragerState;
  /** The global step of the next batch. */
  step: number;
  private readonly averager: Averager;
  private readonly policy: Policy;
  private readonly include: Include;

  constructor(options: AveragingCallbackOptions) {
    super();
    this.averager = options.averager;
    this.policy = options.policy;
    this.include = options.include ?? "all";
    this.state = options.initialState ?? options.averager.init();
    this.step = options.initialStep ?? 0;
  }

  /** Fails early, with the fix, when the model comes from another tfjs-layers copy. */
  override async onTrainBegin(): Promise<void> {
    assertOwnCallback(this, AveragingCallback, "AveragingCallback");
  }

  /** Sets the model; refuses one from another copy of @tensorflow/tfjs-layers. */
  override setModel(model: tfl.LayersModel): void {
    assertOwnLayersModel(model, "AveragingCallback");
    super.setModel(model);
  }

  override async onBatchEnd(): Promise<void> {
    assertOwnCallback(this, AveragingCallback, "AveragingCallback");
    if (this.policy(this.step)) {
      const w = fromModel(this.model, { include: this.include });
      try {
        this.state = this.averager.update(this.state, w);
      } finally {
        for (const t of Object.values(w)) t.dispose();
      }
    }
    this.step++;
  }

  /** Frees the state's tensors and resets it to the averager's initial state. */
  dispose(): void {
    disposeState(this.state);
    this.state = this.averager.init();
  }
}

/**
 * Factory for {@link AveragingCallback}.
 *
 * @example
 * const cb = averagingCallback({ averager: swa(), policy: when({ start: 300 }) });
 * await model.fit(x, y, { epochs: 10, callbacks: [cb] });
 */
export const averagingCallback = (options: AveragingCallbackOptions): AveragingCallback =>
  new AveragingCallback(options);
