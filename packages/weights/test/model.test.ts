import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { assignToModel, disposeWeights, flatten, fromModel, scale } from "../src/index.js";

const mlp = (prefix: string | null) => {
  const name = (n: string) => (prefix === null ? {} : { name: `${prefix}_${n}` });
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 4, inputShape: [3], ...name("d1") }));
  m.add(tf.layers.batchNormalization(name("bn")));
  m.add(tf.layers.dense({ units: 2, ...name("d2") }));
  return m;
};

describe("fromModel", () => {
  it("copies trainable or all weights keyed by variable name, caller-owned", () => {
    const m = mlp("a");
    const before = tf.memory().numTensors;
    const t = fromModel(m);
    expect(Object.keys(t)).toEqual([
      "a_d1/kernel",
      "a_d1/bias",
      "a_bn/gamma",
      "a_bn/beta",
      "a_d2/kernel",
      "a_d2/bias",
    ]);
    const all = fromModel(m, { include: "all" });
    expect(Object.keys(all)).toContain("a_bn/moving_mean");
    expect(Object.keys(all)).toContain("a_bn/moving_variance");
    expect(Object.keys(all).length).toBe(8);
    // A copy: changing the model does not change the snapshot.
    const snapshot = Array.from(t["a_d1/kernel"]!.dataSync());
    const doubled = scale(t, 2);
    expect(E.isRight(assignToModel(m, doubled))).toBe(true);
    expect(Array.from(t["a_d1/kernel"]!.dataSync())).toEqual(snapshot);
    disposeWeights(doubled);
    disposeWeights(t);
    disposeWeights(all);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe("fromModel with duplicate variable names", () => {
  it("throws naming the variable and the fix, leaking nothing", () => {
    const inner = () =>
      tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2], name: "same" })] });
    const outer = tf.sequential({ layers: [inner(), inner()] });
    const before = tf.memory().numTensors;
    expect(() => fromModel(outer)).toThrow(
      /two variables are named "same\/kernel"; give the layers unique names/,
    );
    expect(tf.memory().numTensors).toBe(before);
    outer.dispose();
  });
});

describe("assignToModel", () => {
  it("moves weights between two instances with explicit layer names", () => {
    const src = mlp("x");
    const dst = mlp("x"); // same originalName keys although tfjs suffixes the unique names
    const w = fromModel(src, { include: "all" });
    const before = tf.memory().numTensors;
    expect(E.isRight(assignToModel(dst, w))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const got = fromModel(dst, { include: "all" });
    expect(Array.from(flatten(got))).toEqual(Array.from(flatten(w)));
    const x = tf.randomNormal([5, 3], 0, 1, "float32", 1);
    const ya = src.predict(x) as tf.Tensor;
    const yb = dst.predict(x) as tf.Tensor;
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    tf.dispose([x, ya, yb]);
    disposeWeights(got);
    disposeWeights(w);
    src.dispose();
    dst.dispose();
  });

  it("fails with a clear Left on a missing name and writes nothing", () => {
    const m = mlp("y");
    const w = fromModel(m);
    const bad = { ...w, "nope/kernel": tf.zeros([1]) };
    const zero = scale(w, 0);
    const r = assignToModel(m, { ...zero, "nope/kernel": bad["nope/kernel"] });
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) {
      expect(r.left.kind).toBe("shape");
      expect(r.left.message).toMatch(/no variable named "nope\/kernel"/);
      expect(r.left.message).toMatch(/match: "order"/);
    }
    // All or nothing: the valid keys were not written.
    const after = fromModel(m);
    expect(Array.from(flatten(after))).toEqual(Array.from(flatten(w)));
    for (const x of [w, zero, after]) disposeWeights(x);
    bad["nope/kernel"].dispose();
    m.dispose();
  });

  it("fails with a clear Left on a shape mismatch", () => {
    const m = mlp("z");
    const k = tf.zeros([3, 5]);
    const r = assignToModel(m, { "z_d1/kernel": k });
    expect(E.isLeft(r) && r.left.kind).toBe("shape");
    if (E.isLeft(r)) expect(r.left.message).toMatch(/"z_d1\/kernel" has shape \[3,4\].*\[3,5\]/);
    k.dispose();
    m.dispose();
  });

  it("matches by order for models built without explicit names", () => {
    const a = mlp(null);
    const b = mlp(null);
    const w = fromModel(a, { include: "all" });
    expect(E.isLeft(assignToModel(b, w))).toBe(true); // auto names differ
    expect(E.isRight(assignToModel(b, w, { match: "order" }))).toBe(true);
    const got = fromModel(b, { include: "all" });
    expect(Array.from(flatten(got)).sort()).toEqual(Array.from(flatten(w)).sort());
    const tw = fromModel(a);
    expect(E.isRight(assignToModel(b, tw, { match: "order" }))).toBe(true); // trainable count
    const short = { k: tw[Object.keys(tw)[0]!]! };
    const r = assignToModel(b, short, { match: "order" });
    expect(E.isLeft(r) && r.left.kind).toBe("shape");
    for (const x of [w, got, tw]) disposeWeights(x);
    a.dispose();
    b.dispose();
  });
});
