// The README examples, verbatim apart from the test scaffolding, so they stay runnable.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  assignToModel,
  disposeWeights,
  flatten,
  fromModel,
  lerp,
  loadWeights,
  saveWeights,
} from "../src/index.js";

describe("README examples", () => {
  it("lerp between two models and write the midpoint back", () => {
    const build = () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ units: 8, inputShape: [4], name: "hidden" }),
          tf.layers.dense({ units: 2, name: "out" }),
        ],
      });
    const a = build();
    const b = build();
    const wa = fromModel(a);
    const wb = fromModel(b);
    expect(Object.keys(wa)).toEqual(["hidden/kernel", "hidden/bias", "out/kernel", "out/bias"]);
    const mid = lerp(wa, wb, 0.5);
    const r = assignToModel(a, mid);
    if (E.isLeft(r)) throw new Error(r.left.message);
    const now = fromModel(a);
    const fa = flatten(wa);
    const fb = flatten(wb);
    flatten(now).forEach((v, i) => {
      expect(v).toBeCloseTo((fa[i]! + fb[i]!) / 2, 6);
    });
    for (const w of [wa, wb, mid, now]) disposeWeights(w);
    a.dispose();
    b.dispose();
  });

  it("save and load", async () => {
    const dir = await mkdtemp(join(tmpdir(), "wider-readme-"));
    const w = { "d/kernel": tf.ones([2, 2]) };
    const saved = await saveWeights(join(dir, "final"), w, { epoch: 10 });
    expect(E.isRight(saved)).toBe(true);
    const loaded = await loadWeights(join(dir, "final"));
    expect(E.isRight(loaded) && loaded.right.metadata).toEqual({ epoch: 10 });
    if (E.isRight(loaded)) disposeWeights(loaded.right.weights);
    disposeWeights(w);
    await rm(dir, { recursive: true, force: true });
  });
});
