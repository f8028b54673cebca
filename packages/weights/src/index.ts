/**
 * `@wider/weights`: weight-space arithmetic over TensorFlow.js models. On Node (the `node` export
 * condition) this root entry is the browser-safe API plus the file functions of
 * `@wider/weights/node`; browsers and other platforms get `./browser.js` alone.
 *
 * @packageDocumentation
 */

// arithmetic (binary operations throw a `shape` WeightsError on mismatched sets)
export {
  add,
  axpy,
  clone,
  disposeWeights,
  dot,
  lerp,
  map,
  norm,
  numel,
  randomNormalLike,
  scale,
  sub,
  zerosLike,
  zipWith,
} from "./arithmetic.js";
// the save format in memory (encode/decode a bundle without a file system)
export {
  decodeBundle,
  decodeManifest,
  type EncodedBundle,
  encodeBundle,
  sha256Hex,
} from "./encoding.js";
// errors
export { isWeightsError, type WeightsError, weightsError } from "./errors.js";
// flattening
export { flatten, sortedKeys, unflatten } from "./flatten.js";
// the save format, as data
export { canonicalJson, Json, jsonProblem, MAX_JSON_DEPTH } from "./json.js";
export {
  type Bundle,
  FORMAT_VERSION,
  Manifest,
  TensorEntry,
  type TensorEntryJson,
} from "./manifest.js";
// models
export {
  type AssignOptions,
  assignToModel,
  type FromModelOptions,
  fromModel,
  type Include,
} from "./model.js";
// files (Node only; also `@wider/weights/node`)
export {
  cleanStale,
  loadBundle,
  loadWeights,
  MANIFEST_FILE,
  readManifest,
  saveBundle,
  saveWeights,
} from "./persistence.js";
// the weight set
export type { Weights } from "./types.js";
export { withWeights, withWeightsSync } from "./withWeights.js";
