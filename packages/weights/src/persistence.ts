/**
 * Saving and loading weight sets to a directory: a JSON manifest plus one binary blob.
 *
 * Integrity: the manifest holds the blob's sha256 (`blobSha256`) and the sha256 of its own
 * canonical JSON without that field (`manifestSha256`), so an edit anywhere (metadata, a tensor's
 * shape or offset, the blob) is refused on load as `checkpoint is corrupt: ...` rather than loaded.
 * Loading decodes the manifest and metadata with io-ts codecs (nothing is cast).
 *
 * Atomicity: both files are written to temporary names, flushed and renamed, the manifest last,
 * so a reader sees either the old save or the new one, never a mix. A failed save removes its
 * temporary files; {@link cleanStale} removes those of crashed writers. Node only (`node:fs` is
 * imported lazily, so browser bundles can still import the package).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { corrupt, decodeBlob, decodeManifest, encodeBundle, singleWeights } from "./encoding.js";
import { type WeightsError, weightsError } from "./errors.js";
import type { Json } from "./json.js";
import type { Bundle, Manifest } from "./manifest.js";
import {
  cleanStale,
  describeFsError,
  fsError,
  MANIFEST_FILE,
  prepareDirectory,
  saveFileNames,
  writeFileSynced,
} from "./saveDirectory.js";
import type { Weights } from "./types.js";

export { cleanStale, MANIFEST_FILE } from "./saveDirectory.js";

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const fsP = () => import("node:fs/promises");
const pathM = () => import("node:path");
const cryptoM = () => import("node:crypto");

// -------------------------------------------------------------------------------------
// save
// -------------------------------------------------------------------------------------

/**
 * Saves a {@link Bundle} to `dir` (created if needed) atomically; a previous save in `dir` is
 * replaced and its blob removed, and so are files crashed saves left ({@link cleanStale}). Reads
 * tensor data asynchronously; the tensors stay the caller's. A directory that cannot be created
 * or written, or a full disk, is a `Left` naming the path and the cause, and leaves no file behind.
 *
 * @example
 * await saveBundle("runs/swa", { groups: { mean }, metadata: { n: 12 } });
 */
export const saveBundle = async (
  dir: string,
  bundle: Bundle,
): Promise<E.Either<WeightsError, void>> => {
  if (typeof dir !== "string" || dir === "") {
    return E.left(
      weightsError("config", "saveBundle: dir must be a non-empty directory path", {
        path: "dir",
        value: dir,
        fix: "a non-empty directory path",
      }),
    );
  }
  const crypto = await cryptoM();
  const tag = crypto.randomBytes(6).toString("hex");
  const names = saveFileNames(tag, process.pid);
  const encoded = await encodeBundle(bundle, names.blob);
  if (E.isLeft(encoded)) return encoded;
  const { manifestText, blob } = encoded.right;

  const prepared = await prepareDirectory("saveBundle", dir);
  if (E.isLeft(prepared)) return prepared;
  await cleanStale(dir); // best effort: frees space a crashed save took
  const path = await pathM();
  const fs = await fsP();
  const manifestTmp = path.join(dir, names.manifestTmp);
  const blobTmp = path.join(dir, names.blobTmp);
  const blobFile = path.join(dir, names.blob);
  const manifestFile = path.join(dir, MANIFEST_FILE);
  let step = `write ${manifestTmp}`;
  let blobRenamed = false;
  try {
    // The manifest's temporary file goes first: while it exists, cleanStale keeps this blob.
    await writeFileSynced(manifestTmp, manifestText);
    step = `write ${blobTmp}`;
    await writeFileSynced(blobTmp, blob);
    step = `rename ${blobTmp}`;
    await fs.rename(blobTmp, blobFile);
    blobRenamed = true;
    step = `rename ${manifestTmp} to ${manifestFile}`;
    await fs.rename(manifestTmp, manifestFile);
  } catch (e) {
    await fs.rm(blobTmp, { force: true }).catch(() => undefined);
    if (blobRenamed) await fs.rm(blobFile, { force: true }).catch(() => undefined);
    await fs.rm(manifestTmp, { force: true }).catch(() => undefined);
    return E.left(
      weightsError("io", `saveBundle: cannot ${step}: ${describeFsError(e)}`, {
        path: manifestFile,
      }),
    );
  }
  try {
    const h = await fs.open(dir, "r");
    await h.sync().finally(() => h.close());
  } catch {
    // Directory fsync is not supported everywhere (e.g. Windows); the renames are still atomic.
  }
  await cleanStale(dir); // removes the previous save's blob
  return E.right(undefined);
};

/**
 * Saves one weight set with optional JSON metadata (a {@link Bundle} with the group `"weights"`).
 *
 * @example
 * const r = await saveWeights("runs/final", fromModel(model), { epoch: 10 });
 */
export const saveWeights = (
  dir: string,
  weights: Weights,
  metadata?: Json,
): Promise<E.Either<WeightsError, void>> =>
  saveBundle(
    dir,
    metadata === undefined ? { groups: { weights } } : { groups: { weights }, metadata },
  );

// -------------------------------------------------------------------------------------
// load
// -------------------------------------------------------------------------------------

/**
 * Reads and verifies `dir/manifest.json` without reading the blob: JSON, format version, codec,
 * the manifest's own sha256, sizes and overlaps. A version 1 manifest is refused as written by an
 * older version (kind `version`).
 */
export const readManifest = async (dir: string): Promise<E.Either<WeightsError, Manifest>> => {
  const fs = await fsP();
  const path = await pathM();
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    return E.left(fsError("cannot read manifest", file, e));
  }
  return decodeManifest(text, file);
};

/**
 * Loads a {@link Bundle} saved by {@link saveBundle}; the caller owns the tensors. A missing file
 * is an `io` `Left`; any edit or damage (manifest or blob) is a `Left` whose message starts
 * `checkpoint is corrupt:` and names the file and the problem.
 *
 * @example
 * const r = await loadBundle("runs/swa"); // Either<WeightsError, Bundle>
 */
export const loadBundle = async (dir: string): Promise<E.Either<WeightsError, Bundle>> => {
  const fs = await fsP();
  const path = await pathM();
  const m = await readManifest(dir);
  if (E.isLeft(m)) return m;
  const manifest = m.right;
  const blobFile = path.join(dir, manifest.blob);
  let blob: Buffer;
  try {
    blob = await fs.readFile(blobFile);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOENT")
      return corrupt(blobFile, "the blob its manifest names is missing");
    return E.left(fsError("cannot read blob", blobFile, e));
  }
  return decodeBlob(manifest, blob, blobFile, path.join(dir, MANIFEST_FILE));
};

/**
 * Loads one weight set saved by {@link saveWeights}, with its metadata; the caller owns the tensors.
 *
 * @example
 * const r = await loadWeights("runs/final"); // Either<WeightsError, { weights, metadata? }>
 */
export const loadWeights = async (
  dir: string,
): Promise<E.Either<WeightsError, { readonly weights: Weights; readonly metadata?: Json }>> => {
  const b = await loadBundle(dir);
  if (E.isLeft(b)) return b;
  const weights = singleWeights(b.right, `${dir}/${MANIFEST_FILE}`);
  if (E.isLeft(weights)) {
    for (const g of Object.values(b.right.groups)) for (const x of Object.values(g)) x.dispose();
    return weights;
  }
  return E.right(
    b.right.metadata === undefined
      ? { weights: weights.right }
      : { weights: weights.right, metadata: b.right.metadata },
  );
};
