/**
 * A `model.fit` callback that collects SWAG statistics on a policy after each batch.
 * (`@wider/averaging`'s `AveragingCallback` is typed on its `AveragerState`, so SWAG has its own.)
 *
 * @module
 */

import * as tfl from "@tensorflow/tfjs-layers";
import type { Policy } from "@wider/averaging";
import { assertOwnCallback, assertOwnLayersModel } from "@wider/averaging";
import { disposeWeights, fromModel, type Include } from "@wider/weights";
import { disposeSwagState, type Swag, type SwagState } from "./SwagState.js";

/** Options of {@link SwagCallback}. */
export interface SwagCallbackOptions {
  /** The collector, e.g. `swag()` or `swag({ maxRank: 10 })`. */
  readonly swag: Swag;
  /** At which 0-based global steps (batches) to collect, e.g. `atCycleEnds(100, { start: 3000 })`. */
  readonly policy: Policy;
  /**
   * Which weights to collect (default `"trainable"`, as the authors: BatchNorm statistics are
   * re-estimated for each sample instead).
   */
  readonly include?: Include;
  /** A state to continue from (e.g. from `loadSwagState`); the callback takes ownership. */
  readonly initialState?: SwagState;
  /** The step of the first batch (default 0), to resume a run. */
  readonly initialStep?: number;
}

/**
 * After each batch, if `policy(step)`, folds the model's current weights into the SWAG state;
 * `step` counts batches across epochs and `fit` calls. The callback owns `state`; free it with
 * `dispose()`.
 */
export class SwagCallback extends tfl.Callback {
  /** The current SWAG state (owned by the callback). */
  state: SwagState;
  /** The global step of the next batch. */
  step: number;
  private readonly swag: Swag;
  private readonly policy: Policy;
  private readonly include: Include;

  constructor(options: SwagCallbackOptions) {
    super();
    this.swag = options.swag;
    this.policy = options.policy;
    this.include = options.include ?? "trainable";
    this.state = options.initialState ?? options.swag.init();
    this.step = options.initialStep ?? 0;
  }

  /** Fails early, with the fix, when the model comes from another tfjs-layers copy. */
  override async onTrainBegin(): Promise<void> {
    assertOwnCallback(this, SwagCallback, "SwagCallback");
  }

  /** Sets the model; refuses one from another copy of @tensorflow/tfjs-layers. */
  override setModel(model: tfl.LayersModel): void {
    assertOwnLayersModel(model, "SwagCallback");
    super.setModel(model);
  }

  override async onBatchEnd(): Promise<void> {
    assertOwnCallback(this, SwagCallback, "SwagCallback");
    if (this.policy(this.step)) {
      const w = fromModel(this.model, { include: this.include });
      try {
        this.state = this.swag.update(this.state, w);
      } finally {
        disposeWeights(w);
      }
    }
    this.step++;
  }

  /** Frees the state's tensors and resets it to the collector's initial state. */
  dispose(): void {
    disposeSwagState(this.state);
    this.state = this.swag.init();
  }
}

/**
 * Factory for {@link SwagCallback}.
 *
 * @example
 * const cb = swagCallback({ swag: swag(), policy: when({ start: 300, every: 10 }) });
 * await model.fit(x, y, { epochs: 10, callbacks: [cb] });
 */
export const swagCallback = (options: SwagCallbackOptions): SwagCallback =>
  new SwagCallback(options);
