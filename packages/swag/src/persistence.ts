/**
 * Saving and loading a SWAG state through `@wider/weights` bundles (atomic writes).
 *
 * @module
 */
import { decode, NonNegativeInt } from "@wider/errors";
import {
  disposeWeights,
  type Json,
  type Weights,
  type WeightsError,
  weightsError,
} from "@wider/weights";
import { loadBundle, saveBundle } from "@wider/weights/node";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { SwagState } from "./SwagState.js";

const StateMetadata = t.type({
  kind: t.literal("wider-swag-state"),
  n: NonNegativeInt,
  maxRank: t.refinement(NonNegativeInt, (k) => k >= 2, "an integer >= 2"),
  deviations: NonNegativeInt,
  user: t.unknown,
});

/** The bundle group of the `i`-th stored deviation (0 = oldest), zero-padded so names sort in ring order. */
export const deviationGroup = (i: number): string => `deviation${String(i).padStart(4, "0")}`;

const sameShape = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

const likeMean = (mean: Weights, w: Weights): boolean =>
  Object.keys(mean).length === Object.keys(w).length &&
  Object.entries(mean).every(([k, m]) => w[k] !== undefined && sameShape(m.shape, w[k].shape));

/**
 * Saves `state` atomically to `dir`: groups `mean`, `sqMean` and `deviation0000..` (oldest first,
 * so the ring order is kept), `n`, `maxRank` and optional user metadata in the manifest. The
 * state stays the caller's.
 *
 * @example
 * await saveSwagState("runs/swag-state", state, { epoch: 40 });
 */
export const saveSwagState = (
  dir: string,
  state: SwagState,
  metadata?: Json,
): Promise<E.Either<WeightsError, void>> => {
  const groups: Record<string, Weights> = {};
  if (state.mean !== null) groups.mean = state.mean;
  if (state.sqMean !== null) groups.sqMean = state.sqMean;
  state.deviations.forEach((d, i) => {
    groups[deviationGroup(i)] = d;
  });
  return saveBundle(dir, {
    groups,
    metadata: {
      kind: "wider-swag-state",
      n: state.n,
      maxRank: state.maxRank,
      deviations: state.deviations.length,
      ...(metadata === undefined ? {} : { user: metadata }),
    },
  });
};

/** Loads a state saved by {@link saveSwagState}; the caller owns its tensors. */
export const loadSwagState = async (
  dir: string,
): Promise<E.Either<WeightsError, { readonly state: SwagState; readonly metadata?: Json }>> => {
  const b = await loadBundle(dir);
  if (E.isLeft(b)) return b;
  const { groups, metadata } = b.right;
  const file = `${dir}/manifest.json`;
  const fail = (msg: string) => {
    for (const g of Object.values(groups)) disposeWeights(g);
    return E.left(
      weightsError("corrupt", `${file}: ${msg}`, {
        path: file,
        fix: "load a directory written by saveSwagState",
      }),
    );
  };
  const meta = decode(StateMetadata, metadata, { tag: "WeightsError", root: "metadata" });
  if (E.isLeft(meta)) {
    return fail(
      `metadata is not a SWAG state ({ kind: "wider-swag-state", n, maxRank >= 2, deviations }: ${meta.left.message}); was it saved with saveSwagState?`,
    );
  }
  const { n, maxRank, deviations: count } = meta.right;
  if (count !== Math.min(n, maxRank)) {
    return fail(
      `${count} deviations stored for n = ${n} and maxRank = ${maxRank}; expected ${Math.min(n, maxRank)}`,
    );
  }
  const expected = new Set(
    n === 0
      ? []
      : ["mean", "sqMean", ...Array.from({ length: count }, (_, i) => deviationGroup(i))],
  );
  const present = Object.keys(groups);
  const missing = [...expected].filter((g) => !(g in groups));
  const extra = present.filter((g) => !expected.has(g));
  if (missing.length > 0 || extra.length > 0) {
    return fail(
      `groups do not match n = ${n}: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`,
    );
  }
  const mean = groups.mean ?? null;
  const sqMean = groups.sqMean ?? null;
  const deviations = Array.from({ length: count }, (_, i) => groups[deviationGroup(i)]!);
  if (mean !== null && ![sqMean!, ...deviations].every((w) => likeMean(mean, w))) {
    return fail("sqMean and the deviations must have the keys and shapes of mean");
  }
  const state: SwagState = { n, mean, sqMean, deviations, maxRank };
  const user = meta.right.user as Json | undefined;
  return E.right(user === undefined ? { state } : { state, metadata: user });
};
