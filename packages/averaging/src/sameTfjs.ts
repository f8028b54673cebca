/**
 * Detection of a second copy of TensorFlow.js in `model.fit` callbacks. A model built with one
 * copy of @tensorflow/tfjs-layers does not recognise a callback class extending another copy's
 * `Callback`: it wraps the object as plain `CustomCallbackArgs` and calls its `onBatchEnd` & co.
 * on the wrapper, which without this check fails with tfjs's `TypeError: this.policy is not a
 * function`.
 */

import * as tfl from "@tensorflow/tfjs-layers";
import { fail } from "./errors.js";

const DEDUPE =
  "install one copy of @tensorflow/tfjs, @tensorflow/tfjs-core and @tensorflow/tfjs-layers (same version), then npm dedupe";

/** The error thrown when a callback of this package is driven by another tfjs-layers copy. */
export const duplicateTfjsMessage = (callback: string): string =>
  `${callback}: model.fit called this callback's hook on another object: the model comes from a ` +
  `second copy of @tensorflow/tfjs-layers (this package loaded ${tfl.version_layers}), which ` +
  `does not recognise the callback class and treats it as a plain object. Install ONE copy of ` +
  `TensorFlow.js: \`npm ls @tensorflow/tfjs-core @tensorflow/tfjs-layers\` lists the copies; ` +
  `install the same version of @tensorflow/tfjs, @tensorflow/tfjs-core and ` +
  `@tensorflow/tfjs-layers (e.g. \`npm install @tensorflow/tfjs@4.22.0 ` +
  `@tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-layers@4.22.0\`), then \`npm dedupe\`.`;

/**
 * Throws {@link duplicateTfjsMessage} unless `receiver` (a hook's `this`) is an instance of
 * `cls`; call it first in every hook of a `tf.Callback` subclass.
 *
 * @example
 * override async onBatchEnd() { assertOwnCallback(this, SwaCallback, "SwaCallback"); ... }
 */
export function assertOwnCallback(
  receiver: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: any constructor; only used with instanceof
  cls: abstract new (...args: any[]) => unknown,
  callback: string,
): void {
  if (!(receiver instanceof cls)) fail("version", duplicateTfjsMessage(callback), { fix: DEDUPE });
}

/**
 * Throws {@link duplicateTfjsMessage} unless `model` is a `LayersModel` of the tfjs-layers copy
 * this package imported (for `setModel`, reached when a callback is wired by hand).
 */
export function assertOwnLayersModel(model: unknown, callback: string): void {
  if (!(model instanceof tfl.LayersModel)) {
    if (model !== null && typeof model === "object" && "fit" in model)
      fail("version", duplicateTfjsMessage(callback), { fix: DEDUPE });
    fail("config", `${callback}: setModel expects a tf.LayersModel, got ${typeof model}`, {
      fix: "a tf.LayersModel",
    });
  }
}
