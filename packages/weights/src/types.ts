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
