/**
 * Decoding IDX bytes held in memory (LeCun's MNIST files, Fashion-MNIST), with no file system:
 * browser-safe. Reading files (raw or gzipped) is in `idx.ts` (Node only).
 *
 * Layout: two zero bytes, a dtype code, the number of dimensions `d`, then `d` big-endian
 * uint32 sizes, then the data in row-major order (multi-byte values big-endian).
 */
import * as E from "fp-ts/lib/Either.js";
import { corrupt, type DataError, dataError } from "./errors.js";
import type { Split } from "./split.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Element types an IDX file can hold. */
export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed array matching each `IdxDtype`. */
export type IdxData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** What an IDX header declares: element type, shape, and where the data starts. */
export interface IdxHeader {
  readonly dtype: IdxDtype;
  readonly shape: readonly number[];
  /** Bytes taken by the header (4 + 4 * rank). */
  readonly headerBytes: number;
  /** Bytes of data the shape implies (product of the shape times the element size). */
  readonly dataBytes: number;
}

/** A decoded IDX array; `data` is row-major, native-endian. */
export interface IdxArray {
  readonly dtype: IdxDtype;
  readonly shape: readonly number[];
  readonly data: IdxData;
}

const DTYPES: ReadonlyMap<number, { readonly dtype: IdxDtype; readonly size: number }> = new Map([
  [0x08, { dtype: "uint8", size: 1 }],
  [0x09, { dtype: "int8", size: 1 }],
  [0x0b, { dtype: "int16", size: 2 }],
  [0x0c, { dtype: "int32", size: 4 }],
  [0x0d, { dtype: "float32", size: 4 }],
  [0x0e, { dtype: "float64", size: 8 }],
]);

const ELEMENT_SIZE: Readonly<Record<IdxDtype, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

/** @internal shared with `idx.ts`; not exported by the package. */
export const hex = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, "0");

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** True when `bytes` starts with the gzip magic `1f 8b`. */
export const isGzip = (bytes: Uint8Array): boolean =>
  bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/**
 * True when `bytes` (not a valid IDX header) look like a gzip file whose magic is damaged: one
 * magic byte right, or the deflate method byte `08` and flags `00` where an IDX file has its dtype
 * and rank (a zeroed magic reads as an IDX header of dtype uint8 and rank 0), or a `.gz` name.
 */
export const looksLikeDamagedGzip = (bytes: Uint8Array, file: string): boolean =>
  !isGzip(bytes) &&
  bytes.length >= 4 &&
  (bytes[0] === 0x1f ||
    bytes[1] === 0x8b ||
    (bytes[2] === 0x08 && bytes[3] === 0) ||
    /\.gz$/i.test(file));

/** The fix of a damaged gzip file. */
const REGZIP = "the file is damaged or incomplete: download it again";

/**
 * A corrupt-file error worded `not a valid gzip file: <path> (<why>); <fix>`.
 * @internal shared with `idx.ts`; not exported by the package.
 */
export const notGzip = (file: string, why: string): DataError =>
  dataError("corrupt", `not a valid gzip file: ${file} (${why}); ${REGZIP}`, {
    path: file,
    fix: REGZIP,
  });

/**
 * The fix appended to messages about a damaged IDX file.
 * @internal shared with `idx.ts`; not exported by the package.
 */
export const REFETCH = "the file is damaged, incomplete or not this data set: download it again";

/**
 * Parses and checks an IDX header from the first bytes of a (decompressed) file;
 * `file` names the file in errors. Nothing of the claimed size is allocated.
 */
export const parseIdxHeader = (bytes: Uint8Array, file: string): E.Either<DataError, IdxHeader> => {
  const parsed = parseIdxHeaderOnly(bytes, file);
  if (E.isLeft(parsed) && looksLikeDamagedGzip(bytes, file)) {
    const first = Array.from(bytes.subarray(0, 4), hex).join(" ");
    return E.left(
      notGzip(file, `it starts ${first}, but a gzip file starts 1f 8b 08 and an IDX file 00 00`),
    );
  }
  return parsed;
};

const parseIdxHeaderOnly = (bytes: Uint8Array, file: string): E.Either<DataError, IdxHeader> => {
  if (bytes.length < 4) {
    return E.left(corrupt(file, `holds ${bytes.length} bytes, fewer than the 4-byte IDX magic`));
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    return E.left(
      corrupt(
        file,
        `bad IDX magic ${hex(bytes[0])} ${hex(bytes[1])} ${hex(bytes[2])} ${hex(bytes[3])}: ` +
          `an IDX file starts with two zero bytes, a dtype code and a rank`,
        REFETCH,
      ),
    );
  }
  const code = bytes[2] ?? 0;
  const kind = DTYPES.get(code);
  if (kind === undefined) {
    return E.left(
      corrupt(
        file,
        `unknown IDX dtype code 0x${hex(code)}; known codes are 08 (uint8), 09 (int8), ` +
          `0b (int16), 0c (int32), 0d (float32), 0e (float64)`,
        REFETCH,
      ),
    );
  }
  const rank = bytes[3] ?? 0;
  if (rank === 0)
    return E.left(corrupt(file, `IDX header declares rank 0 (no dimensions)`, REFETCH));
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    return E.left(
      corrupt(
        file,
        `truncated IDX header: rank ${rank} needs ${headerBytes} bytes, found ${bytes.length}`,
        REFETCH,
      ),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, headerBytes);
  const shape: number[] = [];
  let elements = 1;
  for (let i = 0; i < rank; i++) {
    const dim = view.getUint32(4 + 4 * i, false);
    shape.push(dim);
    elements *= dim;
  }
  const dataBytes = elements * kind.size;
  if (!Number.isSafeInteger(dataBytes)) {
    return E.left(
      corrupt(file, `IDX header claims an impossible shape [${shape.join(", ")}]`, REFETCH),
    );
  }
  return E.right({ dtype: kind.dtype, shape, headerBytes, dataBytes });
};

/**
 * Decodes a complete, uncompressed IDX file held in memory. The length must be exactly
 * what the header implies: a shorter file is truncated, a longer one has trailing bytes.
 * A uint8/int8 result is a view on `bytes` (no copy).
 */
export const decodeIdx = (bytes: Uint8Array, file: string): E.Either<DataError, IdxArray> =>
  E.chain((header: IdxHeader) => {
    const checked = checkRawLength(header, bytes.length, file);
    return E.isLeft(checked) ? checked : E.right(decodeBody(header, bytes));
  })(parseIdxHeader(bytes, file));

/** @internal shared with `idx.ts`; not exported by the package. */
export const checkRawLength = (
  header: IdxHeader,
  length: number,
  file: string,
): E.Either<DataError, void> => {
  const expected = header.headerBytes + header.dataBytes;
  const shape = `[${header.shape.join(", ")}] ${header.dtype}`;
  if (length < expected) {
    return E.left(
      corrupt(
        file,
        `truncated: the IDX header claims shape ${shape} (${expected} bytes in all) ` +
          `but the data holds only ${length} bytes`,
        REFETCH,
      ),
    );
  }
  if (length > expected) {
    return E.left(
      corrupt(
        file,
        `${length - expected} unexpected bytes after the data: the IDX header claims shape ` +
          `${shape} (${expected} bytes in all), the data holds ${length}`,
        REFETCH,
      ),
    );
  }
  return E.right(undefined);
};

/** @internal shared with `idx.ts`; not exported by the package. */
export const decodeBody = (header: IdxHeader, bytes: Uint8Array): IdxArray => {
  const { dtype, shape, headerBytes, dataBytes } = header;
  const start = bytes.byteOffset + headerBytes;
  const n = dataBytes / ELEMENT_SIZE[dtype];
  if (dtype === "uint8") return { dtype, shape, data: new Uint8Array(bytes.buffer, start, n) };
  if (dtype === "int8") return { dtype, shape, data: new Int8Array(bytes.buffer, start, n) };
  const view = new DataView(bytes.buffer, start, dataBytes);
  switch (dtype) {
    case "int16": {
      const data = new Int16Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt16(2 * i, false);
      return { dtype, shape, data };
    }
    case "int32": {
      const data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getInt32(4 * i, false);
      return { dtype, shape, data };
    }
    case "float32": {
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, false);
      return { dtype, shape, data };
    }
    case "float64": {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat64(8 * i, false);
      return { dtype, shape, data };
    }
  }
};

/**
 * Builds a `Split` from decoded IDX arrays: uint8 images `[n, h, w]` or `[n, h, w, c]` and uint8
 * labels `[n]` of the same count, every label below `numClasses`; `files` name the two in errors.
 *
 * @example
 * const split = splitFromIdx(images, labels, 10, { images: "t10k-images", labels: "t10k-labels" });
 */
export const splitFromIdx = (
  images: IdxArray,
  labels: IdxArray,
  numClasses: number,
  files: { readonly images: string; readonly labels: string },
): E.Either<DataError, Split> => {
  const is = images.shape;
  const ls = labels.shape;
  if (images.dtype !== "uint8" || (is.length !== 3 && is.length !== 4)) {
    return E.left(
      corrupt(
        files.images,
        `expected uint8 images of shape [n, h, w] or [n, h, w, c], got [${is.join(", ")}] ${images.dtype} (is this a label file?)`,
      ),
    );
  }
  if (labels.dtype !== "uint8" || ls.length !== 1) {
    return E.left(
      corrupt(
        files.labels,
        `expected uint8 labels of shape [n], got [${ls.join(", ")}] ${labels.dtype} (is this an image file?)`,
      ),
    );
  }
  const count = is[0] ?? 0;
  if (ls[0] !== count) {
    return E.left(
      corrupt(
        files.labels,
        `holds ${ls[0]} labels but ${files.images} holds ${count} images: the files do not belong together`,
      ),
    );
  }
  const [h, w, c] = [is[1] ?? 0, is[2] ?? 0, is[3] ?? 1];
  if (count === 0 || h === 0 || w === 0 || c === 0)
    return E.left(corrupt(files.images, `holds no pixels: shape [${is.join(", ")}]`));
  const labelBytes = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    const label = labelBytes[i] ?? 0;
    if (label >= numClasses)
      return E.left(corrupt(files.labels, `label ${i} is ${label}, outside 0..${numClasses - 1}`));
  }
  return E.right({
    images: images.data as Uint8Array,
    labels: labelBytes,
    count,
    imageShape: [h, w, c],
    numClasses,
  });
};
