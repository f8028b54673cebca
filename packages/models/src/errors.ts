/**
 * Errors a user can cause when describing a model (a bad spec or bad options), returned as values
 * inside `Either` by `decodeModelSpec` and `buildModel`.
 *
 * @module errors
 */

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/** A user-caused error; `path` names the field (`"spec.hidden[1]"`), `message` the value and the fix. */
export interface ModelsError {
  readonly _tag: "ModelsError";
  readonly kind: "invalid-spec";
  readonly path: string;
  readonly message: string;
}

// -------------------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------------------

/** Builds a {@link ModelsError} for the field at `path`, e.g. `invalidSpec("spec.classes", "got 0; ...")`. */
export const invalidSpec = (path: string, problem: string): ModelsError => ({
  _tag: "ModelsError",
  kind: "invalid-spec",
  path,
  message: `${path}: ${problem}`,
});
