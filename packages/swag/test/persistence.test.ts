import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { disposeWeights, flatten, saveBundle, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  deviationGroup,
  disposeSwagState,
  loadSwagState,
  type SwagState,
  saveSwagState,
  swag,
} from "../src/index.js";

beforeAll(async () => {
  expect(await tf.setBackend("cpu")).toBe(true);
});
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wider-swag-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const w = (v: number): Weights => ({
  "d/kernel": tf.fill([2, 3], v),
  "d/bias": tf.fill([3], -v * v),
});
const same = (a: SwagState, b: SwagState) => {
  expect(b.n).toBe(a.n);
  expect(b.maxRank).toBe(a.maxRank);
  expect(Array.from(flatten(b.mean!))).toEqual(Array.from(flatten(a.mean!)));
  expect(Array.from(flatten(b.sqMean!))).toEqual(Array.from(flatten(a.sqMean!)));
  expect(b.deviations.map((d) => Array.from(flatten(d)))).toEqual(
    a.deviations.map((d) => Array.from(flatten(d))),
  );
};

describe("saveSwagState / loadSwagState", () => {
  it("round-trips a wrapped ring in order; continuing from the loaded state equals not stopping", async () => {
    const c = swag({ maxRank: 3 });
    const xs = [1, 2, 3, 4, 5, 6, 7].map(w);
    let s = c.init();
    for (const x of xs.slice(0, 5)) s = c.update(s, x);
    expect(E.isRight(await saveSwagState(dir, s, { epoch: 3 }))).toBe(true);
    const r = await loadSwagState(dir);
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(r.right.metadata).toEqual({ epoch: 3 });
    let loaded = r.right.state;
    same(s, loaded);
    for (const x of xs.slice(5)) {
      s = c.update(s, x);
      loaded = c.update(loaded, x);
    }
    same(s, loaded);
    for (const x of xs) disposeWeights(x);
    disposeSwagState(s);
    disposeSwagState(loaded);
  });

  it("round-trips the empty state; rejects other directories and inconsistent counts without leaking", async () => {
    expect(E.isRight(await saveSwagState(dir, swag({ maxRank: 4 }).init()))).toBe(true);
    expect(await loadSwagState(dir)).toEqual(
      E.right({ state: { n: 0, mean: null, sqMean: null, deviations: [], maxRank: 4 } }),
    );
    const x = w(1);
    const s = swag().update(swag().init(), x);
    await saveSwagState(dir, s);
    const before = tf.memory().numTensors;
    // Bundles that are valid files (signed by saveBundle) but not a consistent SWAG state; an edit
    // by hand is caught earlier, by @wider/weights' manifest checksum.
    const groups = { mean: s.mean!, sqMean: s.sqMean!, [deviationGroup(0)]: s.deviations[0]! };
    const meta = { kind: "wider-swag-state", n: 1, maxRank: 20, deviations: 2 };
    expect(E.isRight(await saveBundle(dir, { groups, metadata: meta }))).toBe(true);
    const r = await loadSwagState(dir);
    expect(E.isLeft(r) && r.left.message).toMatch(
      /2 deviations stored for n = 1 and maxRank = 20; expected 1/,
    );
    await saveBundle(dir, {
      groups,
      metadata: { ...meta, deviations: 1, kind: "wider-averager-state" },
    });
    const r2 = await loadSwagState(dir);
    expect(E.isLeft(r2) && r2.left.message).toMatch(/not a SWAG state/);
    const file = join(dir, "manifest.json");
    const m = JSON.parse(await readFile(file, "utf8"));
    m.metadata.n = 2;
    await writeFile(file, JSON.stringify(m));
    const r3 = await loadSwagState(dir);
    expect(E.isLeft(r3) && r3.left.message).toMatch(/checkpoint is corrupt/);
    expect(tf.memory().numTensors).toBe(before);
    disposeSwagState(s);
    disposeWeights(x);
  });
});
