/**
 * `@wider/weights/node`: saving and loading weight sets to directories (Node only: `node:fs`,
 * `node:path`, `node:crypto`). Also exported from the root entry on Node.
 *
 * @packageDocumentation
 */
export {
  cleanStale,
  loadBundle,
  loadWeights,
  MANIFEST_FILE,
  readManifest,
  saveBundle,
  saveWeights,
} from "./persistence.js";
