/**
 * Saving and loading an averager state through `@wider/weights` bundles.
 *
 * @module
 */

import { decode, NonNegativeInt } from "@wider/errors";
import { disposeWeights, type Json, type WeightsError, weightsError } from "@wider/weights";
import { loadBundle, saveBundle } from "@wider/weights/node";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import type { AveragerState } from "./Averager.js";

const StateMetadata = t.type({
  kind: t.literal("wider-averager-state"),
  n: NonNegativeInt,
  user: t.unknown,
});

/**
 * Saves `state` (its `mean` as the bundle group `"mean"`, `n` and optional user metadata in the
 * manifest) atomically to `dir`; the state stays the caller's.
 *
 * @example
 * await saveState("runs/swa-state", state, { epoch: 40 });
 */
export const saveState = (
  dir: string,
  state: AveragerState,
  metadata?: Json,
): Promise<E.Either<WeightsError, void>> =>
  saveBundle(dir, {
    groups: state.mean === null ? {} : { mean: state.mean },
    metadata: {
      kind: "wider-averager-state",
      n: state.n,
      ...(metadata === undefined ? {} : { user: metadata }),
    },
  });

/** Loads a state saved by {@link saveState}; the caller owns `state.mean`. */
export const loadState = async (
  dir: string,
): Promise<E.Either<WeightsError, { readonly state: AveragerState; readonly metadata?: Json }>> => {
  const b = await loadBundle(dir);
  if (E.isLeft(b)) return b;
  const { groups, metadata } = b.right;
  const file = `${dir}/manifest.json`;
  const fail = (msg: string) => {
    for (const g of Object.values(groups)) disposeWeights(g);
    return E.left(
      weightsError("corrupt", `${file}: ${msg}`, {
        path: file,
        fix: "load a directory written by saveState",
      }),
    );
  };
  const meta = decode(StateMetadata, metadata, { tag: "WeightsError", root: "metadata" });
  if (E.isLeft(meta))
    return fail(
      `metadata is not an averager state ({ kind: "wider-averager-state", n }: ${meta.left.message}); was it saved with saveState?`,
    );
  const mean = groups.mean ?? null;
  const others = Object.keys(groups).filter((g) => g !== "mean");
  if (others.length > 0) return fail(`unexpected groups [${others.join(", ")}]`);
  if ((mean === null) !== (meta.right.n === 0)) {
    return fail(`n is ${meta.right.n} but the mean is ${mean === null ? "absent" : "present"}`);
  }
  const state: AveragerState = { n: meta.right.n, mean };
  const user = meta.right.user as Json | undefined;
  return E.right(user === undefined ? { state } : { state, metadata: user });
};
