/**
 * The errors of `@wider/models`, in the one Wider shape (`@wider/errors`).
 *
 * - A bad JSON spec (`decodeModelSpec`, `buildModel`, `ModelSpecCodec`: specs come from configs
 *   and CLIs) is **returned** as a `Left<ModelsError>` of kind `config` naming the field in `path`.
 * - Bad options of a typed builder (`mlp({ hidden: [0] })`: written in code) are **thrown** as a
 *   `WiderFailure` with the same fields and message.
 *
 * @module errors
 */
import { errorFor, type WiderError } from "@wider/errors";

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * A models error: `_tag: "ModelsError"`, kind `config` (a spec or option field; `path` names it,
 * e.g. `"spec.hidden"`, `value` is what was given) or `unsupported` (a model too large to seed).
 */
export type ModelsError = WiderError<"ModelsError">;

// -------------------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------------------

/** Builds a {@link ModelsError}. */
export const modelsError = errorFor("ModelsError");

/**
 * A bad spec or option field at `path` (kind `config`), e.g.
 * `invalidSpec("spec.inputShape", "got [4,4,1]; needs at least 8x8", [4, 4, 1])`.
 */
export const invalidSpec = (path: string, problem: string, value?: unknown): ModelsError =>
  modelsError("config", `${path}: ${problem}`, {
    path,
    ...(value === undefined ? {} : { value }),
  });
