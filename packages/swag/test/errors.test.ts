import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { errorKinds, isWiderError, type WiderError, WiderFailure } from "@wider/errors";
import { disposeWeights, saveBundle, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  disposeSwagState,
  isSwagError,
  loadSwagState,
  swag,
  swagSampleSeeded,
  swagVariance,
} from "../src/index.js";

const root = mkdtempSync(join(tmpdir(), "wider-swag-errors-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const thrown = (f: () => unknown): WiderError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isSwagError(e)).toBe(true);
    return e as WiderError;
  }
  throw new Error("expected a SwagError to be thrown");
};

const leftOf = <A>(r: E.Either<WiderError, A>): WiderError => {
  if (E.isRight(r)) throw new Error("expected a Left");
  expect(r.left).not.toBeInstanceOf(Error);
  return r.left;
};

describe("errors: one shape, thrown for code mistakes, returned for files", () => {
  it("every thrown and returned error has the shared shape and kind", async () => {
    const w: Weights = { k: tf.tensor1d([1, 2]) };
    const odd: Weights = { k: tf.tensor1d([1, 2, 3]) };
    const collector = swag({ maxRank: 2 });
    const s = collector.update(collector.init(), w);
    const dir = join(root, "not-swag");
    expect(E.isRight(await saveBundle(dir, { groups: { mean: w }, metadata: { kind: "x" } }))).toBe(
      true,
    );
    const before = tf.memory().numTensors;
    const errors: Array<[WiderError, string, string]> = [
      [thrown(() => swag({ maxRank: 1 })), "SwagError", "config"],
      [thrown(() => collector.update(s, odd)), "SwagError", "shape"],
      [thrown(() => swagVariance(collector.init())), "SwagError", "config"],
      [thrown(() => swagSampleSeeded(s, { scale: -1, seed: 0 })), "SwagError", "config"],
      [leftOf(await loadSwagState(join(root, "missing"))), "WeightsError", "io"],
      [leftOf(await loadSwagState(dir)), "WeightsError", "corrupt"],
    ];
    for (const [e, tag, kind] of errors) {
      expect(isWiderError(e)).toBe(true);
      expect(errorKinds).toContain(e.kind);
      expect(e._tag).toBe(tag);
      expect(e.kind, e.message).toBe(kind);
    }
    expect(errors[0]?.[0]).toMatchObject({ path: "maxRank", value: 1 });
    expect(errors[1]?.[0]).toMatchObject({ path: "k", value: [3] });
    expect(errors[5]?.[0].message).toMatch(/metadata is not a SWAG state/);
    expect(tf.memory().numTensors).toBe(before);
    disposeSwagState(s);
    disposeWeights(w);
    disposeWeights(odd);
  });
});
