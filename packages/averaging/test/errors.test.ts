import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { errorKinds, isWiderError, type WiderError, WiderFailure } from "@wider/errors";
import { constant } from "@wider/schedules";
import { disposeWeights, saveBundle } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  assertOwnLayersModel,
  type Batch,
  batchInput,
  ema,
  isAveragingError,
  loadState,
  setLearningRate,
  swa,
  swaCallback,
  updateBatchNorm,
  when,
} from "../src/index.js";

const root = mkdtempSync(join(tmpdir(), "wider-averaging-errors-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `f`, expects a thrown AveragingError, returns it. */
const thrown = (f: () => unknown): WiderError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isAveragingError(e)).toBe(true);
    return e as WiderError;
  }
  throw new Error("expected an AveragingError to be thrown");
};

const rejected = async (p: Promise<unknown>): Promise<WiderError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isAveragingError(e)).toBe(true);
    return e as WiderError;
  }
  throw new Error("expected an AveragingError to be thrown");
};

const leftOf = <A>(r: E.Either<WiderError, A>): WiderError => {
  if (E.isRight(r)) throw new Error("expected a Left");
  expect(r.left).not.toBeInstanceOf(Error);
  return r.left;
};

describe("errors: one shape, thrown for code mistakes, returned for data and files", () => {
  it("every thrown and returned error has the shared shape and kind", async () => {
    const w = { "a/kernel": tf.ones([2, 2]) };
    const other = { "a/kernel": tf.ones([3]) };
    const avg = swa();
    const s = avg.update(avg.init(), w);
    const odd = Object.assign(Object.create(tf.train.sgd(1)), {
      getClassName: () => "Mystery",
    }) as tf.Optimizer;
    // A file holding a weights bundle that is not an averager state.
    const dir = join(root, "not-state");
    expect(
      E.isRight(await saveBundle(dir, { groups: { x: w }, metadata: { kind: "other" } })),
    ).toBe(true);

    const errors: Array<[WiderError, string, string]> = [
      [thrown(() => ema({ decay: 2 })), "AveragingError", "config"],
      [thrown(() => swa({ buffers: "keep" as "copy" })), "AveragingError", "config"],
      [thrown(() => when({ every: 0 })), "AveragingError", "config"],
      [thrown(() => avg.update(s, other)), "AveragingError", "shape"],
      [thrown(() => batchInput([] as unknown as Batch)), "AveragingError", "shape"],
      [thrown(() => assertOwnLayersModel(42, "X")), "AveragingError", "config"],
      [
        thrown(() => swaCallback({ schedule: constant(0.1), start: -1, collect: { cycle: 2 } })),
        "AveragingError",
        "config",
      ],
      [await rejected(updateBatchNorm(bnModel(), [])), "AveragingError", "config"],
      [leftOf(setLearningRate(tf.train.sgd(0.1), Number.NaN)), "AveragingError", "config"],
      [leftOf(setLearningRate(odd, 0.1)), "AveragingError", "unsupported"],
      [leftOf(await loadState(join(root, "missing"))), "WeightsError", "io"],
      [leftOf(await loadState(dir)), "WeightsError", "corrupt"],
    ];
    for (const [e, tag, kind] of errors) {
      expect(isWiderError(e)).toBe(true);
      expect(errorKinds).toContain(e.kind);
      expect(e._tag).toBe(tag);
      expect(e.kind, e.message).toBe(kind);
    }
    expect(errors[0]?.[0]).toMatchObject({ path: "decay", value: 2 });
    expect(errors[3]?.[0]).toMatchObject({ path: "a/kernel", value: [3] });
    expect(errors[11]?.[0].message).toMatch(/metadata is not an averager state/);
    disposeWeights(w);
    disposeWeights(other);
    if (s.mean !== null) disposeWeights(s.mean);
  });
});

function bnModel(): tf.LayersModel {
  return tf.sequential({
    layers: [tf.layers.batchNormalization({ inputShape: [3], name: "bn_err" })],
  });
}
