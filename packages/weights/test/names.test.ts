import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  add,
  clone,
  disposeWeights,
  flatten,
  loadBundle,
  loadWeights,
  saveBundle,
  saveWeights,
  unflatten,
  type Weights,
} from "../src/index.js";

/** Names an object literal or `in` mishandles: `__proto__` sets the prototype, the rest are inherited. */
const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

/** A record with own properties for every name (a literal `{ __proto__: x }` would set the prototype). */
const own = <A>(entries: ReadonlyArray<readonly [string, A]>): Record<string, A> => {
  const r: Record<string, A> = {};
  for (const [k, v] of entries)
    Object.defineProperty(r, k, { value: v, enumerable: true, writable: true, configurable: true });
  return r;
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wider-names-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sampleWeights = (): Weights =>
  own(NAMES.map((n, i) => [n, tf.tensor1d([i, i + 0.5])] as const));

describe("names such as __proto__ and constructor round-trip", () => {
  it("as tensor names, through saveWeights / loadWeights", async () => {
    const w = sampleWeights();
    orThrow(await saveWeights(dir, w, own([["__proto__", 1]])));
    const before = tf.memory().numTensors;
    const back = orThrow(await loadWeights(dir));
    expect(Object.keys(back.weights)).toEqual(NAMES);
    for (const n of NAMES) expect(Object.hasOwn(back.weights, n)).toBe(true);
    expect(Array.from(flatten(back.weights))).toEqual(Array.from(flatten(w)));
    expect(Object.getPrototypeOf(back.weights)).toBe(Object.prototype);
    expect(Object.hasOwn(back.metadata as object, "__proto__")).toBe(true);
    disposeWeights(back.weights);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(w);
  });

  it("as group names, through saveBundle / loadBundle", async () => {
    const a = sampleWeights();
    const groups = own([
      ["__proto__", a],
      ["constructor", {}],
    ]);
    orThrow(await saveBundle(dir, { groups }));
    const b = orThrow(await loadBundle(dir));
    expect(Object.keys(b.groups)).toEqual(["__proto__", "constructor"]);
    const g = Object.getOwnPropertyDescriptor(b.groups, "__proto__")?.value as Weights;
    expect(Object.keys(g)).toEqual(NAMES);
    expect(Array.from(flatten(g))).toEqual(Array.from(flatten(a)));
    expect(Object.keys(Object.getOwnPropertyDescriptor(b.groups, "constructor")?.value)).toEqual(
      [],
    );
    // loadWeights wants one group named "weights": an inherited "constructor" is not it.
    const r = await loadWeights(dir);
    expect(E.isLeft(r) && r.left.message).toMatch(/not one "weights" group; use loadBundle/);
    disposeWeights(g);
    disposeWeights(a);
  });

  it("through map, zipWith (add), clone and unflatten, which see own keys only", () => {
    const w = sampleWeights();
    const before = tf.memory().numTensors;
    const c = clone(w);
    const s = add(w, c);
    const u = unflatten(w, flatten(s));
    for (const x of [c, s, u]) expect(Object.keys(x)).toEqual(NAMES);
    expect(Array.from(flatten(u))).toEqual(Array.from(flatten(w)).map((v) => 2 * v));
    // A set without "constructor" differs in keys even though `"constructor" in {}` is true.
    const fewer = own(
      NAMES.filter((n) => n !== "constructor").map((n) => [n, w[n] as tf.Tensor] as const),
    );
    expect(() => add(w, fewer)).toThrow(/different keys \(only in the first: \[constructor\]/);
    for (const x of [c, s, u]) disposeWeights(x);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(w);
  });
});
