/**
 * What `buildModel` needs from each model module: check an options object, then build.
 *
 * @module definition
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import type { Either } from "fp-ts/lib/Either.js";
import type { ModelsError } from "./errors.js";

/** Checks options (fields named under `path`) and returns the builder they configure. */
export type Prepare = (
  input: unknown,
  path: string,
  ignore?: readonly string[],
) => Either<ModelsError, () => tfl.LayersModel>;
