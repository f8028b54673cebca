/**
 * The `wider-weights` format in memory: a {@link Bundle} encoded to the manifest text and the blob
 * bytes that a save directory holds, and decoded back with every check loading does (io-ts
 * codecs, both sha256 digests, sizes, overlaps). Browser-safe: sha256 comes from Web Crypto
 * (`globalThis.crypto.subtle`, present in Node >= 20 and in browsers on secure origins: https or
 * localhost). `@wider/weights/node` writes and reads these two parts as files.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { decode } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { type WeightsError, weightsError } from "./errors.js";
import { canonicalJson, jsonProblem } from "./json.js";
import { type Bundle, FORMAT_VERSION, Manifest, type TensorEntryJson } from "./manifest.js";
import { hasOwn, setOwn } from "./ownRecord.js";
import type { Weights } from "./types.js";

/** A bundle as the two parts of a save directory: `manifest.json`'s text and the blob's bytes. */
export interface EncodedBundle {
  /** The text of `manifest.json` (it names the blob `blobName`). */
  readonly manifestText: string;
  readonly blobName: string;
  readonly blob: Uint8Array;
}

const Header = t.type({ format: t.literal("wider-weights"), version: t.number });

const BYTES_PER_ELEMENT = 4;

/** Hex sha256 of bytes or UTF-8 text, through Web Crypto. */
export const sha256Hex = async (data: Uint8Array | string): Promise<string> => {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined)
    throw new Error(
      "@wider/weights: sha256 needs Web Crypto (crypto.subtle), which browsers offer on secure origins only: serve the page over https or from localhost",
    );
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  // digest() refuses views on a SharedArrayBuffer: copy those only.
  const plain: Uint8Array<ArrayBuffer> =
    bytes.buffer instanceof ArrayBuffer
      ? (bytes as Uint8Array<ArrayBuffer>)
      : new Uint8Array(bytes);
  const digest = await subtle.digest("SHA-256", plain);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
};

/** The digest stored as `manifestSha256`: over the canonical JSON of everything else. */
export const manifestDigest = (json: Record<string, unknown>): Promise<string> => {
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

/** A `Left` saying the checkpoint is corrupt: `checkpoint is corrupt: <file>: <what>; save again`. */
export const corrupt = (file: string, what: string): E.Either<WeightsError, never> =>
  E.left(
    weightsError(
      "corrupt",
      `checkpoint is corrupt: ${file}: ${what}; it was edited or damaged after saving, save it again`,
      { path: file, fix: "save it again" },
    ),
  );

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
 * Encodes a {@link Bundle} as the manifest text and blob of a save directory (the blob named
 * `blobName`); reads tensor data asynchronously, the tensors stay the caller's. Metadata that is
 * not plain JSON, or a tensor that is not float32/int32, is a `Left` (`config`, or `unsupported` for the dtype).
 *
 * @example
 * const r = await encodeBundle({ groups: { weights: fromModel(model) } });
 * // Right({ manifestText: '{"format":"wider-weights",...}', blobName: "weights.bin", blob })
 */
export const encodeBundle = async (
  bundle: Bundle,
  blobName = "weights.bin",
): Promise<E.Either<WeightsError, EncodedBundle>> => {
  if (!isPlainFileName(blobName))
    return E.left(
      weightsError(
        "config",
        `encodeBundle: blobName ${JSON.stringify(blobName)} is not a plain file name`,
        { path: "blobName", value: blobName, fix: "a file name without a path separator" },
      ),
    );
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
  const body: Record<string, unknown> = {
    format: "wider-weights",
    version: FORMAT_VERSION,
    blob: blobName,
    blobBytes: blob.byteLength,
    blobSha256: await sha256Hex(blob),
    groups: Object.keys(bundle.groups),
    tensors: entries,
  };
  if (bundle.metadata !== undefined) body.metadata = bundle.metadata;
  const manifestText = `${JSON.stringify({ ...body, manifestSha256: await manifestDigest(body) }, null, 1)}\n`;
  return E.right({ manifestText, blobName, blob });
};

/**
 * Decodes and verifies manifest text (without the blob): JSON, format version, codec, the
 * manifest's own sha256, sizes and overlaps; `file` names it in errors. A version 1 manifest is
 * refused as written by an older version (kind `version`).
 */
export const decodeManifest = async (
  text: string,
  file = "manifest.json",
): Promise<E.Either<WeightsError, Manifest>> => {
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
 * Checks `blob` against a verified manifest (length, sha256) and builds the bundle's tensors; the
 * caller owns them. `blobFile` and `manifestFile` name the two parts in errors.
 */
export const decodeBlob = async (
  manifest: Manifest,
  blob: Uint8Array,
  blobFile: string,
  manifestFile: string,
): Promise<E.Either<WeightsError, Bundle>> => {
  if (blob.byteLength !== manifest.blobBytes) {
    const what = blob.byteLength < manifest.blobBytes ? "is truncated" : "is longer than expected";
    return corrupt(
      blobFile,
      `${what}: it has ${blob.byteLength} bytes but ${manifestFile} says ${manifest.blobBytes}`,
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
    // Copy into an aligned buffer: the blob's byteOffset need not be a multiple of 4.
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
 * Decodes an {@link EncodedBundle}'s parts (manifest text and blob) back to a bundle, with every
 * check loading a save directory does; the caller owns the tensors.
 *
 * @example
 * const r = await decodeBundle(encoded.manifestText, encoded.blob); // Either<WeightsError, Bundle>
 */
export const decodeBundle = async (
  manifestText: string,
  blob: Uint8Array,
  files: { readonly manifest?: string; readonly blob?: string } = {},
): Promise<E.Either<WeightsError, Bundle>> => {
  const manifestFile = files.manifest ?? "manifest.json";
  const m = await decodeManifest(manifestText, manifestFile);
  if (E.isLeft(m)) return m;
  return decodeBlob(m.right, blob, files.blob ?? m.right.blob, manifestFile);
};

/** The single `"weights"` group of a bundle (as {@link decodeBundle} returns it), or a `Left` naming the groups. */
export const singleWeights = (bundle: Bundle, file: string): E.Either<WeightsError, Weights> => {
  const names = Object.keys(bundle.groups);
  const weights = hasOwn(bundle.groups, "weights") ? bundle.groups.weights : undefined;
  if (weights === undefined || names.length !== 1)
    return E.left(
      weightsError(
        "corrupt",
        `${file} holds the groups [${names.join(", ")}], not one "weights" group; use loadBundle`,
        { path: file, value: names, fix: "use loadBundle" },
      ),
    );
  return E.right(weights);
};
