import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { errorKinds, isWiderError, type WiderError, WiderFailure } from "@wider/errors";
import { disposeWeights, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import {
  isGeometryError,
  planeThrough,
  pointWeights,
  rayFrom,
  rayWidth,
  readResultsFile,
  segment,
  summarizeWidths,
} from "../src/index.js";

const root = mkdtempSync(join(tmpdir(), "wider-geometry-errors-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const thrown = (f: () => unknown): WiderError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    expect(isGeometryError(e)).toBe(true);
    return e as WiderError;
  }
  throw new Error("expected a GeometryError to be thrown");
};

const leftOf = <A>(r: E.Either<WiderError, A>): WiderError => {
  if (E.isRight(r)) throw new Error("expected a Left");
  expect(r.left).not.toBeInstanceOf(Error);
  return r.left;
};

describe("errors: one shape, thrown for options in code, returned for weights and files", () => {
  it("every thrown and returned error is a GeometryError with a shared kind", async () => {
    const a: Weights = { k: tf.tensor1d([1, 2]) };
    const b: Weights = { k: tf.tensor1d([3, 5]) };
    const c: Weights = { k: tf.tensor1d([5, 8]) };
    const odd: Weights = { k: tf.tensor1d([1, 2, 3]) };
    const zero: Weights = { k: tf.zeros([2]) };
    const bad = join(root, "bad.json");
    writeFileSync(bad, "{ not json");
    const other = join(root, "other.json");
    writeFileSync(other, JSON.stringify({ format: "something else" }));
    const before = tf.memory().numTensors;
    const plan = segment(a, b, [0, 1]);
    if (E.isLeft(plan)) throw new Error(plan.left.message);

    const errors: Array<[WiderError, string]> = [
      [thrown(() => rayFrom(a, b, [])), "config"],
      [thrown(() => planeThrough(a, b, c, { grid: 1 })), "config"],
      [thrown(() => rayWidth([{ distance: 0, value: 1 }], { delta: -1 })), "config"],
      [thrown(() => summarizeWidths([])), "config"],
      [thrown(() => pointWeights(plan.right, 5)), "config"],
      [leftOf(rayFrom(a, odd, [1])), "shape"],
      [leftOf(segment(a, { j: a.k! }, [0])), "shape"],
      [leftOf(rayFrom(a, zero, [1])), "degenerate"],
      [leftOf(planeThrough(a, a, c)), "degenerate"],
      [leftOf(rayWidth([{ distance: 1, value: 1 }], { delta: 1 })), "config"],
      [leftOf(await readResultsFile(bad)), "corrupt"],
      [leftOf(await readResultsFile(other)), "corrupt"],
      [leftOf(await readResultsFile(root)), "io"],
    ];
    for (const [e, kind] of errors) {
      expect(isWiderError(e)).toBe(true);
      expect(errorKinds).toContain(e.kind);
      expect(e._tag).toBe("GeometryError");
      expect(e.kind, e.message).toBe(kind);
    }
    expect(errors[5]?.[0]).toMatchObject({ path: "k", value: [3] });
    expect(errors[10]?.[0].path).toBe(bad);
    expect(errors[11]?.[0].message).toMatch(/is not a wider-geometry result file \(\$\./);
    disposeWeights(plan.right.a);
    disposeWeights(plan.right.b);
    expect(tf.memory().numTensors).toBe(before);
    for (const w of [a, b, c, odd, zero]) disposeWeights(w);
  });
});
