/**
 * The on-disk format of a saved weight set, as data: the {@link Bundle} type and the io-ts codecs of
 * `manifest.json`. Browser-safe (no file system); saving and loading are in `@wider/weights/node`.
 *
 * @module
 */
import { NonNegativeInt } from "@wider/errors";
import * as t from "io-ts";
import { Json } from "./json.js";
import type { Weights } from "./types.js";

/**
 * Several named weight sets plus JSON metadata: any state made of `Weights` and scalars, e.g. an
 * averager state `{ groups: { mean }, metadata: { n } }`. Group and tensor names may be any
 * string, `__proto__` and `constructor` included.
 */
export interface Bundle {
  readonly groups: Readonly<Record<string, Weights>>;
  readonly metadata?: Json;
}

/**
 * The manifest format version this package writes and reads. Version 2 added `manifestSha256`
 * (and renamed `sha256` to `blobSha256`); version 1 saves are refused as written by an older
 * version, since nothing guards their manifest against edits.
 */
export const FORMAT_VERSION = 2;

const Sha256Hex = t.refinement(
  t.string,
  (s) => /^[0-9a-f]{64}$/.test(s),
  "a sha256 (64 lowercase hex digits)",
);

/** One tensor entry of the manifest, decoded: sizes are `NonNegativeInt`s from `@wider/errors`. */
export interface TensorEntry {
  readonly group: string;
  readonly name: string;
  readonly shape: NonNegativeInt[];
  readonly dtype: "float32" | "int32";
  readonly offset: NonNegativeInt;
  readonly bytes: NonNegativeInt;
}

/** A tensor entry as written to JSON (plain numbers). */
export interface TensorEntryJson {
  readonly group: string;
  readonly name: string;
  readonly shape: number[];
  readonly dtype: "float32" | "int32";
  readonly offset: number;
  readonly bytes: number;
}

/** io-ts codec of one tensor entry of the manifest. */
export const TensorEntry: t.Type<TensorEntry, TensorEntryJson, unknown> = t.type({
  group: t.string,
  name: t.string,
  shape: t.array(NonNegativeInt),
  dtype: t.keyof({ float32: null, int32: null }),
  offset: NonNegativeInt,
  bytes: NonNegativeInt,
});

/** The decoded manifest (`manifest.json`), format version 2. */
export interface Manifest {
  readonly format: "wider-weights";
  readonly version: typeof FORMAT_VERSION;
  readonly blob: string;
  readonly blobBytes: NonNegativeInt;
  /** sha256 of the blob, hex. */
  readonly blobSha256: string;
  /** Every group, including empty ones, in order. */
  readonly groups: string[];
  readonly tensors: TensorEntry[];
  /** sha256 (hex) of the canonical JSON of the manifest without this field. */
  readonly manifestSha256: string;
  /** User metadata (absent = none). */
  readonly metadata?: Json;
}

/** io-ts codec of the manifest (`manifest.json`), format version 2. */
export const Manifest: t.Type<Manifest, unknown, unknown> = t.intersection([
  t.type({
    format: t.literal("wider-weights"),
    version: t.literal(FORMAT_VERSION),
    blob: t.string,
    blobBytes: NonNegativeInt,
    /** sha256 of the blob, hex. */
    blobSha256: Sha256Hex,
    /** Every group, including empty ones, in order. */
    groups: t.array(t.string),
    tensors: t.array(TensorEntry),
    /** sha256 (hex) of the canonical JSON ({@link canonicalJson}) of the manifest without this field. */
    manifestSha256: Sha256Hex,
  }),
  t.partial({
    /** User metadata (absent = none). */
    metadata: Json,
  }),
]);
