/**
 * SWAG moments in a run checkpoint's weight groups: `swagMean`, `swagSqMean` and the deviations
 * `swagDev0`, `swagDev1`, ... oldest first (the count `n` lives in the checkpoint's metadata).
 *
 * @module
 */
import { emptySwagState, type SwagState } from "@wider/swag";
import { clone, disposeWeights, type Weights } from "@wider/weights";

const dev = (i: number): string => `swagDev${i}`;

/** Writes copies of `s`'s tensors into `groups`, replacing (and freeing) what was there. */
export const swagToGroups = (groups: Record<string, Weights>, s: SwagState): void => {
  const put = (name: string, w: Weights) => {
    const old = groups[name];
    groups[name] = clone(w);
    if (old !== undefined) disposeWeights(old);
  };
  if (s.mean !== null) put("swagMean", s.mean);
  if (s.sqMean !== null) put("swagSqMean", s.sqMean);
  for (const [i, d] of s.deviations.entries()) put(dev(i), d);
  for (let i = s.deviations.length; groups[dev(i)] !== undefined; i++) {
    disposeWeights(groups[dev(i)] as Weights);
    delete groups[dev(i)];
  }
};

/**
 * The SWAG state of `n` collections stored in `groups`: copies, or with `take` the groups' own
 * tensors (removed from `groups`, so the caller owns them).
 */
export const swagFromGroups = (
  groups: Record<string, Weights>,
  n: number,
  maxRank: number,
  take = false,
): SwagState => {
  if (n === 0 || groups.swagMean === undefined || groups.swagSqMean === undefined)
    return emptySwagState(maxRank);
  const get = (name: string): Weights => {
    const w = groups[name];
    if (w === undefined) throw new Error(`internal: the checkpoint lacks ${name}`);
    if (!take) return clone(w);
    delete groups[name];
    return w;
  };
  const count = Math.min(n, maxRank);
  return {
    n,
    mean: get("swagMean"),
    sqMean: get("swagSqMean"),
    deviations: Array.from({ length: count }, (_, i) => get(dev(i))),
    maxRank,
  };
};
