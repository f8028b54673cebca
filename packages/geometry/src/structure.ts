/**
 * Structure of weight sets: whether two sets have the same keys and shapes, checked before
 * combining them so a user's mismatch is an error value rather than a throw deep in tfjs.
 *
 * @module
 */
import type { Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { type GeometryError, geometryError } from "./errors.js";

const shapeText = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * `Right` when `b` has exactly the keys of `a` with the same shapes; else a `Left` naming the
 * first differing key. `names` label the two sets in the message (e.g. `["center", "direction"]`).
 */
export const checkSameStructure = (
  a: Weights,
  b: Weights,
  names: readonly [string, string],
): E.Either<GeometryError, void> => {
  const [na, nb] = names;
  const ka = Object.keys(a);
  const kb = new Set(Object.keys(b));
  if (ka.length === 0) {
    return E.left(
      geometryError("shape", `${na} has no tensors: pass a non-empty weight set`, {
        path: na,
        fix: "a non-empty weight set",
      }),
    );
  }
  for (const k of ka) {
    const tb = b[k];
    if (tb === undefined) {
      return E.left(
        geometryError(
          "shape",
          `${nb} has no tensor "${k}" that ${na} has: both must come from the same architecture (same variable names)`,
          { path: k, fix: "weights of the same architecture (same variable names)" },
        ),
      );
    }
    const sa = a[k]!.shape;
    if (sa.length !== tb.shape.length || sa.some((d, i) => d !== tb.shape[i])) {
      return E.left(
        geometryError(
          "shape",
          `"${k}" has shape ${shapeText(sa)} in ${na} but ${shapeText(tb.shape)} in ${nb}: both must come from the same architecture`,
          { path: k, value: tb.shape, fix: `a tensor of shape ${shapeText(sa)}` },
        ),
      );
    }
    kb.delete(k);
  }
  const extra = [...kb][0];
  if (extra !== undefined) {
    return E.left(
      geometryError(
        "shape",
        `${nb} has a tensor "${extra}" that ${na} lacks: both must hold the same variables (e.g. both fromModel(model, { include: "trainable" }))`,
      ),
    );
  }
  return E.right(undefined);
};
