/**
 * A thin `model.fit` callback that feeds a snapshot collector after each batch.
 *
 * @module snapshotCallback
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { assertOwnCallback, assertOwnLayersModel } from "@wider/averaging";
import { raise } from "@wider/errors";
import { disposeWeights, fromModel, type Include } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import type { SnapshotCollector, SnapshotState } from "./snapshots.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Options of {@link SnapshotCallback}. */
export interface SnapshotCallbackOptions {
  /** The collector, from `collectAt(policy, { maxCount, store })`. */
  readonly collector: SnapshotCollector;
  /** Which weights to snapshot (default `"all"`, so BatchNorm statistics travel with each member). */
  readonly include?: Include;
  /** A state to continue from (e.g. from `snapshotsOnDisk`); the callback takes ownership. */
  readonly initialState?: SnapshotState;
  /** The global step of the first batch (default 0), to resume a run. */
  readonly initialStep?: number;
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * After each batch, passes the model's weights to the collector with the global step (batches
 * across epochs and `fit` calls). The callback owns `state`; a snapshot that cannot be saved
 * makes `fit` reject with the collector's message.
 */
export class SnapshotCallback extends tfl.Callback {
  /** The collector's current state (owned by the callback). */
  state: SnapshotState;
  /** The global step of the next batch. */
  step: number;
  private readonly collector: SnapshotCollector;
  private readonly include: Include;

  constructor(options: SnapshotCallbackOptions) {
    super();
    this.collector = options.collector;
    this.include = options.include ?? "all";
    this.state = options.initialState ?? options.collector.init();
    this.step = options.initialStep ?? 0;
  }

  /** Fails early, with the fix, when the model comes from another tfjs-layers copy. */
  override async onTrainBegin(): Promise<void> {
    assertOwnCallback(this, SnapshotCallback, "SnapshotCallback");
  }

  /** Sets the model; refuses one from another copy of @tensorflow/tfjs-layers. */
  override setModel(model: tfl.LayersModel): void {
    assertOwnLayersModel(model, "SnapshotCallback");
    super.setModel(model);
  }

  override async onBatchEnd(): Promise<void> {
    assertOwnCallback(this, SnapshotCallback, "SnapshotCallback");
    const step = this.step++;
    if (!this.collector.policy(step)) return;
    const w = fromModel(this.model, { include: this.include });
    try {
      const next = await this.collector.update(this.state, step, w);
      if (E.isLeft(next))
        raise({ ...next.left, message: `SnapshotCallback at step ${step}: ${next.left.message}` });
      this.state = next.right;
    } finally {
      disposeWeights(w);
    }
  }
}

/**
 * Factory for {@link SnapshotCallback}.
 *
 * @example
 * const cb = snapshotCallback({ collector });
 * await model.fit(x, y, { epochs: 10, batchSize: 32, callbacks: [cb] });
 * const probs = await ensembleProbabilities(model, cb.state, { test: xTest });
 */
export const snapshotCallback = (options: SnapshotCallbackOptions): SnapshotCallback =>
  new SnapshotCallback(options);
