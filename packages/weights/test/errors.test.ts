import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { errorKinds, isWiderError, type WiderError, WiderFailure } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  add,
  assignToModel,
  canonicalJson,
  disposeWeights,
  fromModel,
  isWeightsError,
  loadWeights,
  saveBundle,
  saveWeights,
  unflatten,
} from "../src/index.js";
import { sample } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "wider-weights-errors-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `f`, expects a thrown WeightsError, returns it. */
const thrown = (f: () => unknown): WiderError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isWeightsError(e)).toBe(true);
    return e as WiderError;
  }
  throw new Error("expected a WeightsError to be thrown");
};

const leftOf = <A>(r: E.Either<WiderError, A>): WiderError => {
  if (E.isRight(r)) throw new Error("expected a Left");
  // Returned errors are plain values, not the thrown form.
  expect(r.left).not.toBeInstanceOf(Error);
  return r.left;
};

describe("errors: one shape, thrown for code mistakes, returned for data and files", () => {
  it("every thrown and returned error is a WeightsError with a shared kind", async () => {
    const a = sample();
    const b = { ...sample(1), extra: tf.zeros([1]) };
    const named = tf.sequential();
    named.add(tf.layers.dense({ units: 2, inputShape: [3], name: "d" }));
    const dup = tf.sequential();
    dup.add(tf.layers.dense({ units: 2, inputShape: [3], name: "x" }));
    const inner = tf.sequential({
      layers: [tf.layers.dense({ units: 2, inputShape: [2], name: "x" })],
    });
    dup.add(inner);

    const dir = join(root, "ok");
    expect(E.isRight(await saveWeights(dir, a))).toBe(true);
    writeFileSync(join(dir, "manifest.json"), "{ not json");

    const nope = { nope: tf.zeros([1]) };
    const wrong = { "d/kernel": tf.zeros([2, 2]) };
    const bool = { g: { t: tf.tensor([true]) } };
    const before = tf.memory().numTensors;
    const errors: Array<[WiderError, string]> = [
      [thrown(() => add(a, b)), "shape"],
      [thrown(() => unflatten(a, new Float32Array(2))), "shape"],
      [thrown(() => fromModel(dup)), "config"],
      [thrown(() => canonicalJson({ loss: Number.NaN })), "config"],
      [leftOf(assignToModel(named, nope)), "shape"],
      [leftOf(assignToModel(named, wrong)), "shape"],
      [leftOf(await loadWeights(join(root, "missing"))), "io"],
      [leftOf(await loadWeights(dir)), "corrupt"],
      [leftOf(await saveWeights("", a)), "config"],
      [leftOf(await saveWeights(join(root, "nan"), a, { loss: Number.NaN })), "config"],
      [leftOf(await saveBundle(join(root, "b"), { groups: bool })), "unsupported"],
    ];
    for (const [e, kind] of errors) {
      expect(isWiderError(e)).toBe(true);
      expect(errorKinds).toContain(e.kind);
      expect(e._tag).toBe("WeightsError");
      expect(e.kind, e.message).toBe(kind);
      expect(e.message.length).toBeGreaterThan(10);
    }
    // Files are named in `path`.
    expect(errors[6]?.[0].path).toMatch(/missing.manifest\.json$/);
    expect(errors[7]?.[0].path).toMatch(/ok.manifest\.json$/);
    expect(errors[5]?.[0].path).toBe("d/kernel");
    // Nothing leaks on the error paths.
    expect(tf.memory().numTensors).toBe(before);
    for (const w of [nope, wrong, bool.g]) disposeWeights(w);
    disposeWeights(a);
    disposeWeights(b);
  });
});
