/**
 * `@wider/weights` for every platform: the in-memory API (arithmetic, models, flattening, the
 * manifest codecs). What reads or writes files is in `@wider/weights/node`; on Node the root entry
 * exports both.
 *
 * @packageDocumentation
 */
export * from "./arithmetic.js";
export {
  decodeBundle,
  decodeManifest,
  type EncodedBundle,
  encodeBundle,
  sha256Hex,
} from "./encoding.js";
export * from "./flatten.js";
export { canonicalJson, Json, jsonProblem, MAX_JSON_DEPTH } from "./json.js";
export { type Bundle, FORMAT_VERSION, Manifest, TensorEntry } from "./manifest.js";
export * from "./model.js";
export * from "./types.js";
export * from "./withWeights.js";
