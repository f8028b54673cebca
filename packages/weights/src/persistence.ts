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
import * as tf from "@tensorflow/tfjs-core";
import { decode } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type WeightsError, weightsError } from "./errors.js";
import { canonicalJson, type Json, jsonProblem } from "./json.js";
import { type Bundle, FORMAT_VERSION, Manifest, type TensorEntryJson } from "./manifest.js";
import { hasOwn, setOwn } from "./ownRecord.js";
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
// model
// -------------------------------------------------------------------------------------

const Header = t.type({ format: t.literal("wider-weights"), version: t.number });

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const fsP = () => import("node:fs/promises");
const pathM = () => import("node:path");
const cryptoM = () => import("node:crypto");

const sha256Hex = async (data: Uint8Array | string): Promise<string> =>
  (await cryptoM()).createHash("sha256").update(data).digest("hex");

/** The digest stored as `manifestSha256`: over the canonical JSON of everything else. */
const manifestDigest = (json: Record<string, unknown>): Promise<string> => {
  const body: Record<string, unknown> = {};
  for (const k of Object.keys(json)) if (k !== "manifestSha256") setOwn(body, k, json[k]);
  return sha256Hex(canonicalJson(body));
};

/** Decodes `json` with `codec`; a failure is the message naming each bad field (`$.tensors[0]...`). */
const decodeIn = <A>(codec: t.Decoder<unknown, A>, json: unknown): E.Either<string, A> =>
  E.mapLeft((e: WeightsError) => e.message)(
    decode(codec, json, { tag: "WeightsError", kind: "corrupt" }),
  );

const isPlainFileName = (name: string): boolean =>
  name !== "" &&
  name !== "." &&
  name !== ".." &&
  !name.includes("/") &&
  !name.includes("\\") &&
  !name.includes("\0");

/** A `corrupt` `Left`: `checkpoint is corrupt: <file>: <what>; ... save it again`. */
const corrupt = (file: string, what: string): E.Either<WeightsError, never> =>
  E.left(
    weightsError(
      "corrupt",
      `checkpoint is corrupt: ${file}: ${what}; it was edited or damaged after saving, save it again`,
      { path: file, fix: "save it again" },
    ),
  );

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
  if (bundle.metadata !== undefined) {
    const problem = jsonProblem(bundle.metadata, "metadata");
    if (problem !== undefined) {
      return E.left(
        weightsError(
          "config",
          `saveBundle: ${problem}; store plain JSON (finite numbers, strings, booleans, null, arrays, plain objects)`,
          {
            path: "metadata",
            fix: "store plain JSON (finite numbers, strings, booleans, null, arrays, plain objects)",
          },
        ),
      );
    }
  }
  const entries: TensorEntryJson[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [group, w] of Object.entries(bundle.groups)) {
    for (const [name, tensor] of Object.entries(w)) {
      if (tensor.dtype !== "float32" && tensor.dtype !== "int32") {
        return E.left(
          weightsError(
            "unsupported",
            `saveBundle: "${group}/${name}" has dtype ${tensor.dtype}; only float32 and int32 ` +
              `can be saved, cast it first`,
            { path: `${group}/${name}`, value: tensor.dtype, fix: "cast it to float32 or int32" },
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
  const crypto = await cryptoM();
  const tag = crypto.randomBytes(6).toString("hex");
  const names = saveFileNames(tag, process.pid);
  const body: Record<string, unknown> = {
    format: "wider-weights",
    version: FORMAT_VERSION,
    blob: names.blob,
    blobBytes: blob.byteLength,
    blobSha256: await sha256Hex(blob),
    groups: Object.keys(bundle.groups),
    tensors: entries,
  };
  if (bundle.metadata !== undefined) body.metadata = bundle.metadata;
  const manifestText = `${JSON.stringify({ ...body, manifestSha256: await manifestDigest(body) }, null, 1)}\n`;

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

const BYTES_PER_ELEMENT = 4;

/** Checks what the codec cannot: blob path, sizes, overlaps, duplicates. */
const checkManifest = (m: Manifest, file: string): E.Either<WeightsError, void> => {
  const bad = (msg: string) => corrupt(file, msg);
  if (!isPlainFileName(m.blob)) {
    return corrupt(
      file,
      `blob ${JSON.stringify(m.blob)} is not a plain file name; a manifest may only name a file in its own directory`,
    );
  }
  if (new Set(m.groups).size !== m.groups.length) return bad("groups has duplicates");
  const groups = new Set(m.groups);
  const seen = new Set<string>();
  const spans: Array<[number, number, string]> = [];
  for (const e of m.tensors) {
    const key = `${e.group}/${e.name}`;
    if (!groups.has(e.group))
      return bad(`tensor "${e.name}" is in group "${e.group}" not listed in groups`);
    const id = JSON.stringify([e.group, e.name]);
    if (seen.has(id)) return bad(`tensor "${e.name}" appears twice in group "${e.group}"`);
    seen.add(id);
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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // V8 quotes the start of the text in the message: keep it on one short line.
    const why = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").slice(0, 120);
    return corrupt(file, `not valid JSON (${why})`);
  }
  const header = decodeIn(Header, json);
  if (E.isLeft(header)) return corrupt(file, `not a wider-weights manifest: ${header.left}`);
  const version = header.right.version;
  if (version !== FORMAT_VERSION) {
    const older = Number.isInteger(version) && version >= 1 && version < FORMAT_VERSION;
    const newer = Number.isInteger(version) && version > FORMAT_VERSION;
    if (!older && !newer) return corrupt(file, `version ${version} is not a format version`);
    return E.left(
      weightsError(
        "version",
        older
          ? `${file} was written by an older version of @wider/weights (format version ${version}, whose checksum ` +
              `does not cover the manifest); this version reads format ${FORMAT_VERSION} only and refuses it ` +
              "rather than trust it unchecked: save the weights again (or load them with the older version and re-save)"
          : `${file} was written by a newer version of @wider/weights (format version ${version}); ` +
              `this one reads format ${FORMAT_VERSION}: upgrade @wider/weights`,
        {
          path: file,
          value: version,
          fix: older ? "save the weights again" : "upgrade @wider/weights",
        },
      ),
    );
  }
  const decoded = decodeIn(Manifest, json);
  if (E.isLeft(decoded)) return corrupt(file, decoded.left);
  const m = decoded.right;
  // json is an object here: the codec accepted it.
  const digest = await manifestDigest(json as Record<string, unknown>);
  if (digest !== m.manifestSha256) {
    return corrupt(
      file,
      `its contents do not match its manifestSha256 (${digest.slice(0, 12)}... vs ${m.manifestSha256.slice(0, 12)}...)`,
    );
  }
  const checked = checkManifest(m, file);
  return E.isLeft(checked) ? checked : E.right(m);
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
  if (blob.byteLength !== manifest.blobBytes) {
    const what = blob.byteLength < manifest.blobBytes ? "is truncated" : "is longer than expected";
    return corrupt(
      blobFile,
      `${what}: it has ${blob.byteLength} bytes but ${path.join(dir, MANIFEST_FILE)} says ${manifest.blobBytes}`,
    );
  }
  const sha = await sha256Hex(blob);
  if (sha !== manifest.blobSha256) {
    return corrupt(
      blobFile,
      `does not match its manifest (sha256 ${sha.slice(0, 12)}... vs ${manifest.blobSha256.slice(0, 12)}...)`,
    );
  }
  const groups: Record<string, Record<string, tf.Tensor>> = {};
  for (const g of manifest.groups) setOwn(groups, g, {});
  for (const e of manifest.tensors) {
    // Copy into an aligned buffer: the Buffer's byteOffset need not be a multiple of 4.
    const bytes = new Uint8Array(e.bytes);
    bytes.set(blob.subarray(e.offset, e.offset + e.bytes));
    const values =
      e.dtype === "int32" ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer);
    const group = groups[e.group];
    if (group !== undefined && hasOwn(groups, e.group))
      setOwn(group, e.name, tf.tensor(values, e.shape, e.dtype));
  }
  return E.right(
    manifest.metadata === undefined ? { groups } : { groups, metadata: manifest.metadata },
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
  const names = Object.keys(b.right.groups);
  const weights = hasOwn(b.right.groups, "weights") ? b.right.groups.weights : undefined;
  if (weights === undefined || names.length !== 1) {
    for (const g of Object.values(b.right.groups)) for (const x of Object.values(g)) x.dispose();
    return E.left(
      weightsError(
        "corrupt",
        `${dir}/${MANIFEST_FILE} holds the groups [${names.join(", ")}], not one "weights" group; use loadBundle`,
        { path: `${dir}/${MANIFEST_FILE}`, value: names, fix: "use loadBundle" },
      ),
    );
  }
  return E.right(
    b.right.metadata === undefined ? { weights } : { weights, metadata: b.right.metadata },
  );
};
