/**
 * The model of a weight set: a read-only record of tensors keyed by variable name.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A named set of weight tensors, keyed by the variable's name (for a model, the
 * tfjs `originalName` such as `"dense_Dense1/kernel"`, the name `model.save` uses).
 * Key insertion order follows the model's weight order; `flatten` uses sorted order.
 */
export type Weights = Readonly<Record<string, tf.Tensor>>;

/** The kinds of error a user can cause with weights: bad names, shapes, or files. */
export type WeightsErrorKind =
  | "missing-name"
  | "shape-mismatch"
  | "count-mismatch"
  | "io"
  | "bad-json"
  | "bad-manifest"
  | "bad-blob"
  | "path-outside"
  | "unsupported-version";

/** An error value: `kind` to branch on, `message` naming the field, value and fix, `file` if any. */
export interface WeightsError {
  readonly kind: WeightsErrorKind;
  readonly message: string;
  readonly file?: string;
}

/** Builds a {@link WeightsError}; `file` is attached only when given. */
export const weightsError = (
  kind: WeightsErrorKind,
  message: string,
  file?: string,
): WeightsError => (file === undefined ? { kind, message } : { kind, message, file });
