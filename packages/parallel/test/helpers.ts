import * as tf from "@tensorflow/tfjs";
import { buildModel, type ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import {
  type Batches,
  initLoop,
  type Optimizer,
  runSteps,
  softmaxCrossEntropy,
} from "@wider/training";
import { expect } from "vitest";

/** A model's weights by name, copied out. */
export const weightsOf = (m: tf.LayersModel): Record<string, Float32Array> =>
  Object.fromEntries(
    m.weights.map((v) => [v.originalName, Float32Array.from(v.read().dataSync())]),
  );

/** One optimizer slot (e.g. `"momentum"`) of a state, by weight name, copied out. */
export const slotOf = (
  opt: { readonly slots: Record<string, Record<string, tf.Tensor>> },
  slot: string,
): Record<string, Float32Array> =>
  Object.fromEntries(
    Object.entries(opt.slots[slot] ?? {}).map(([k, t]) => [k, Float32Array.from(t.dataSync())]),
  );

/** Builds a spec's model or throws. */
export const build = (spec: ModelSpec): tf.LayersModel => {
  const m = buildModel(spec);
  if (m._tag === "Left") throw new Error(m.left.message);
  return m.right;
};

/** Seeded batches of `rows` for a [h, w, c] input and 10 classes, a pure function of the step. */
export const batchesFor =
  (shape: readonly number[], rows: number): Batches =>
  (step) => ({
    x: tf.randomNormal([rows, ...shape], 0, 1, "float32", 1000 + step),
    y: tf.randomUniform([rows], 0, 10, "int32", 2000 + step),
  });

/** The reference: single-thread `runSteps` on the full batch; returns the weights by name. */
export const reference = async (
  spec: ModelSpec,
  optimizer: Optimizer,
  batches: Batches,
  steps: number,
  lr: number,
): Promise<Record<string, Float32Array>> => {
  const model = build(spec);
  const r = await runSteps({
    model,
    optimizer,
    loss: softmaxCrossEntropy(),
    schedule: constant(lr),
    batches,
    state: initLoop(model, optimizer),
    to: steps,
  });
  const out = Object.fromEntries(
    model.weights.map((v) => [v.originalName, Float32Array.from(v.read().dataSync())]),
  );
  tf.dispose(Object.values(r.state.opt.slots).flatMap((s) => Object.values(s)));
  model.dispose();
  return out;
};

/** Per tensor: max |a - b| <= rtol * max |b| (+ 1e-7 absolute floor); returns the worst ratio. */
export const expectClose = (
  got: Record<string, Float32Array>,
  want: Record<string, Float32Array>,
  rtol: number,
): number => {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  let worst = 0;
  for (const [k, w] of Object.entries(want)) {
    const g = got[k]!;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < w.length; i++) {
      scale = Math.max(scale, Math.abs(w[i]!));
      diff = Math.max(diff, Math.abs(g[i]! - w[i]!));
    }
    const rel = diff / Math.max(scale, 1e-7);
    worst = Math.max(worst, rel);
    expect(rel, k).toBeLessThanOrEqual(rtol);
  }
  return worst;
};
