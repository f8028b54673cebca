/**
 * Saving and loading weight sets to a directory: a JSON manifest (validated by an io-ts codec
 * on load) plus one binary blob. Writes are atomic: the blob gets a fresh name, both files are
 * written to temporary names, flushed and renamed, and the manifest is renamed last, so a reader
 * sees either the old save or the new one, never a mix. Node only (`node:fs` is imported lazily,
 * so browser bundles can still import the package).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type Weights, type WeightsError, weightsError } from "./types.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A JSON value, for user metadata stored in the manifest. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [k: string]: Json };

/**
 * Several named weight sets plus JSON metadata: any state made of `Weights` and scalars, e.g. an
 * averager state `{ groups: { mean }, metadata: { n } }`.
 */
export interface Bundle {
  readonly groups: Readonly<Record<string, Weights>>;
  readonly metadata?: Json;
}

/** The manifest's file name inside a save directory. */
export const MANIFEST_FILE = "manifest.json";

/** The manifest format version this package writes and reads. */
export const FORMAT_VERSION = 1;

const NonNegativeInt = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0,
  "NonNegativeInt",
);

/** io-ts codec of one tensor entry of the manifest. */
export const TensorEntry = t.type({
  group: t.string,
  name: t.string,
  shape: t.array(NonNegativeInt),
  dtype: t.keyof({ float32: null, int32: null }),
  offset: NonNegativeInt,
  bytes: NonNegativeInt,
});

/** io-ts codec of the manifest (`manifest.json`). */
export const Manifest = t.type({
  format: t.literal("wider-weights"),
  version: t.number,
  blob: t.string,
  blobBytes: NonNegativeInt,
  sha256: t.string,
  /** Every group, including empty ones. */
  groups: t.array(t.string),
  tensors: t.array(TensorEntry),
  /** Optional user metadata (absent = none). */
  metadata: t.unknown,
});

/** The decoded manifest. */
export type Manifest = t.TypeOf<typeof Manifest>;

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const fsP = () => import("node:fs/promises");
const pathM = () => import("node:path");
const cryptoM = () => import("node:crypto");

const describeErr = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const ioError = (what: string, file: string, e: unknown): WeightsError =>
  weightsError("io", `${what} ${file}: ${describeErr(e)}`, file);

/** Paths of io-ts errors, e.g. `tensors.0.shape.1: expected NonNegativeInt, got -3`. */
const reportErrors = (errors: t.Errors): string =>
  errors
    .slice(0, 5)
    .map((err) => {
      const path = err.context
        .map((c) => c.key)
        .filter((k) => k !== "")
        .join(".");
      const expected = err.context[err.context.length - 1]?.type.name ?? "?";
      return `${path === "" ? "(root)" : path}: expected ${expected}, got ${JSON.stringify(err.value)}`;
    })
    .join("; ");

const isPlainFileName = (name: string): boolean =>
  name !== "" &&
  name !== "." &&
  name !== ".." &&
  !name.includes("/") &&
  !name.includes("\\") &&
  !name.includes("\0");

const writeFileSynced = async (file: string, data: Uint8Array | string): Promise<void> => {
  const fs = await fsP();
  const h = await fs.open(file, "w");
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
};

// -------------------------------------------------------------------------------------
// save
// -------------------------------------------------------------------------------------

/**
 * Saves a {@link Bundle} to `dir` (created if needed) atomically; a previous save in `dir` is
 * replaced and its blob removed. Reads tensor data asynchronously; the tensors stay the caller's.
 *
 * @example
 * await saveBundle("runs/swa", { groups: { mean }, metadata: { n: 12 } });
 */
export const saveBundle = async (
  dir: string,
  bundle: Bundle,
): Promise<E.Either<WeightsError, void>> => {
  const fs = await fsP();
  const path = await pathM();
  const crypto = await cryptoM();
  const entries: Array<t.TypeOf<typeof TensorEntry>> = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [group, w] of Object.entries(bundle.groups)) {
    for (const [name, tensor] of Object.entries(w)) {
      if (tensor.dtype !== "float32" && tensor.dtype !== "int32") {
        return E.left(
          weightsError(
            "bad-manifest",
            `saveBundle: "${group}/${name}" has dtype ${tensor.dtype}; only float32 and int32 ` +
              `can be saved, cast it first`,
          ),
        );
      }
      const data = (await tensor.data()) as Float32Array | Int32Array;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      entries.push({
        group,
        name,
        shape: [...tensor.shape],
        dtype: tensor.dtype,
        offset,
        bytes: bytes.byteLength,
      });
      chunks.push(bytes);
      offset += bytes.byteLength;
    }
  }
  const blob = new Uint8Array(offset);
  let o = 0;
  for (const c of chunks) {
    blob.set(c, o);
    o += c.byteLength;
  }
  const sha256 = crypto.createHash("sha256").update(blob).digest("hex");
  const tag = crypto.randomBytes(6).toString("hex");
  const blobName = `weights-${tag}.bin`;
  const manifest: Manifest = {
    format: "wider-weights",
    version: FORMAT_VERSION,
    blob: blobName,
    blobBytes: blob.byteLength,
    sha256,
    groups: Object.keys(bundle.groups),
    tensors: entries,
    metadata: bundle.metadata, // JSON.stringify drops it when undefined
  };
  const manifestFile = path.join(dir, MANIFEST_FILE);
  const blobFile = path.join(dir, blobName);
  const blobTmp = path.join(dir, `.${blobName}.tmp`);
  const manifestTmp = path.join(dir, `.${MANIFEST_FILE}.${tag}.tmp`);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    return E.left(ioError("saveBundle: cannot create directory", dir, e));
  }
  // The blob the current manifest names (if any), to remove once the new manifest is in place.
  let oldBlob: string | undefined;
  try {
    const old = Manifest.decode(JSON.parse(await fs.readFile(manifestFile, "utf8")));
    if (E.isRight(old) && isPlainFileName(old.right.blob) && old.right.blob !== blobName) {
      oldBlob = path.join(dir, old.right.blob);
    }
  } catch {
    // No previous save (or an unreadable one): nothing to clean up.
  }
  try {
    await writeFileSynced(blobTmp, blob);
    await fs.rename(blobTmp, blobFile);
    await writeFileSynced(manifestTmp, `${JSON.stringify(manifest, null, 1)}\n`);
    await fs.rename(manifestTmp, manifestFile);
  } catch (e) {
    await fs.rm(blobTmp, { force: true }).catch(() => undefined);
    await fs.rm(manifestTmp, { force: true }).catch(() => undefined);
    return E.left(ioError("saveBundle: cannot write", dir, e));
  }
  try {
    const h = await fs.open(dir, "r");
    await h.sync().finally(() => h.close());
  } catch {
    // Directory fsync is not supported everywhere (e.g. Windows); the renames are still atomic.
  }
  if (oldBlob !== undefined) await fs.rm(oldBlob, { force: true }).catch(() => undefined);
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

const BYTES_PER_ELEMENT = 4;

/** Checks what the codec cannot: blob path, sizes, overlaps, duplicates, version. */
const checkManifest = (m: Manifest, file: string): E.Either<WeightsError, void> => {
  const bad = (msg: string) => E.left(weightsError("bad-manifest", `${file}: ${msg}`, file));
  if (m.version !== FORMAT_VERSION) {
    return bad(
      `version is ${m.version} but this @wider/weights reads version ${FORMAT_VERSION}; upgrade the package`,
    );
  }
  if (!isPlainFileName(m.blob)) {
    return E.left(
      weightsError(
        "path-outside",
        `${file}: blob ${JSON.stringify(m.blob)} is not a plain file name; a manifest may only name a file in its own directory`,
        file,
      ),
    );
  }
  if (!/^[0-9a-f]{64}$/.test(m.sha256))
    return bad(`sha256 ${JSON.stringify(m.sha256)} is not 64 hex digits`);
  if (new Set(m.groups).size !== m.groups.length) return bad("groups has duplicates");
  const seen = new Set<string>();
  const spans: Array<[number, number, string]> = [];
  for (const e of m.tensors) {
    const key = `${e.group}/${e.name}`;
    if (!m.groups.includes(e.group))
      return bad(`tensor "${e.name}" is in group "${e.group}" not listed in groups`);
    if (seen.has(key)) return bad(`tensor "${e.name}" appears twice in group "${e.group}"`);
    seen.add(key);
    const want = e.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT;
    if (e.bytes !== want) {
      return bad(
        `tensor "${key}" has shape [${e.shape}] (${want} bytes as ${e.dtype}) but bytes is ${e.bytes}`,
      );
    }
    if (e.offset + e.bytes > m.blobBytes) {
      return bad(
        `tensor "${key}" spans bytes ${e.offset}..${e.offset + e.bytes} beyond blobBytes ${m.blobBytes}`,
      );
    }
    spans.push([e.offset, e.offset + e.bytes, key]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1])
      return bad(`tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  }
  return E.right(undefined);
};

/** Reads and validates `dir/manifest.json` without reading the blob. */
export const readManifest = async (dir: string): Promise<E.Either<WeightsError, Manifest>> => {
  const fs = await fsP();
  const path = await pathM();
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    return E.left(ioError("cannot read manifest", file, e));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(
      weightsError(
        "bad-json",
        `${file} is not valid JSON (${describeErr(e)}); the save is corrupt, save again`,
        file,
      ),
    );
  }
  const decoded = Manifest.decode(json);
  if (E.isLeft(decoded)) {
    return E.left(
      weightsError(
        "bad-manifest",
        `${file} is not a wider-weights manifest: ${reportErrors(decoded.left)}`,
        file,
      ),
    );
  }
  const checked = checkManifest(decoded.right, file);
  return E.isLeft(checked) ? checked : E.right(decoded.right);
};

/**
 * Loads a {@link Bundle} saved by {@link saveBundle}; the caller owns the tensors. A missing,
 * truncated or mismatched file, bad JSON, or a manifest naming a path outside `dir` is a `Left`
 * whose message names the file and the problem.
 */
export const loadBundle = async (dir: string): Promise<E.Either<WeightsError, Bundle>> => {
  const fs = await fsP();
  const path = await pathM();
  const crypto = await cryptoM();
  const m = await readManifest(dir);
  if (E.isLeft(m)) return m;
  const manifest = m.right;
  const blobFile = path.join(dir, manifest.blob);
  let blob: Buffer;
  try {
    blob = await fs.readFile(blobFile);
  } catch (e) {
    return E.left(ioError("cannot read blob", blobFile, e));
  }
  if (blob.byteLength !== manifest.blobBytes) {
    const what = blob.byteLength < manifest.blobBytes ? "is truncated" : "is longer than expected";
    return E.left(
      weightsError(
        "bad-blob",
        `${blobFile} ${what}: it has ${blob.byteLength} bytes but ${path.join(dir, MANIFEST_FILE)} says ${manifest.blobBytes}; save again`,
        blobFile,
      ),
    );
  }
  const sha = crypto.createHash("sha256").update(blob).digest("hex");
  if (sha !== manifest.sha256) {
    return E.left(
      weightsError(
        "bad-blob",
        `${blobFile} does not match its manifest (sha256 ${sha.slice(0, 12)}... vs ${manifest.sha256.slice(0, 12)}...): corrupt or from another save`,
        blobFile,
      ),
    );
  }
  const groups: Record<string, Record<string, tf.Tensor>> = {};
  for (const g of manifest.groups) groups[g] = {};
  for (const e of manifest.tensors) {
    // Copy into an aligned buffer: the Buffer's byteOffset need not be a multiple of 4.
    const bytes = new Uint8Array(e.bytes);
    bytes.set(blob.subarray(e.offset, e.offset + e.bytes));
    const values =
      e.dtype === "int32" ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    groups[e.group]![e.name] = tf.tensor(values, e.shape, e.dtype);
  }
  return E.right(
    manifest.metadata === undefined ? { groups } : { groups, metadata: manifest.metadata as Json },
  );
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
  const { weights, ...rest } = b.right.groups;
  const others = Object.keys(rest);
  if (weights === undefined || others.length > 0) {
    for (const g of Object.values(b.right.groups)) for (const x of Object.values(g)) x.dispose();
    return E.left(
      weightsError(
        "bad-manifest",
        `${dir}/${MANIFEST_FILE} holds the groups [${Object.keys(b.right.groups).join(", ")}], not one "weights" group; use loadBundle`,
      ),
    );
  }
  return E.right(
    b.right.metadata === undefined ? { weights } : { weights, metadata: b.right.metadata },
  );
};
