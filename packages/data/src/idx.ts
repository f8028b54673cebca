/**
 * The IDX format (LeCun's MNIST files, Fashion-MNIST), raw or gzipped.
 *
 * Layout: two zero bytes, a dtype code, the number of dimensions `d`, then `d` big-endian
 * uint32 sizes, then the data in row-major order (multi-byte values big-endian). A
 * gzipped file (magic `1f 8b`) is recognised by its content, not its name.
 *
 * Every size a header claims is checked against what the file can hold before anything
 * of that size is allocated; gzip decompression is bounded by the size the header
 * implies (`maxOutputLength`), so a lying header cannot exhaust memory.
 */
import { constants as bufferConstants } from "node:buffer";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import * as E from "fp-ts/lib/Either.js";
import { corrupt, type DataError, dataError, describeCause } from "./errors.js";
import { readFileChecked } from "./fileBytes.js";
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

/**
 * Deflate cannot expand data by more than about 1032:1, so a gzip file of `n` bytes
 * decompresses to at most `n * 1032` bytes (plus slack for tiny files). A header that
 * claims more than this is refused before decompressing anything.
 */
const MAX_DEFLATE_RATIO = 1032;

/** The largest Buffer Node can allocate. */
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

const hex = (b: number | undefined): string => (b ?? 0).toString(16).padStart(2, "0");

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

/** A corrupt-file error worded `not a valid gzip file: <path> (<why>); <fix>`. */
const notGzip = (file: string, why: string): DataError =>
  dataError("corrupt", `not a valid gzip file: ${file} (${why}); ${REGZIP}`, {
    path: file,
    fix: REGZIP,
  });

/** The fix appended to messages about a damaged IDX file. */
const REFETCH = "the file is damaged, incomplete or not this data set: download it again";

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

const checkRawLength = (
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

const decodeBody = (header: IdxHeader, bytes: Uint8Array): IdxArray => {
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

// -------------------------------------------------------------------------------------
// reading files
// -------------------------------------------------------------------------------------

/** An IDX file read from disk whose header has been checked but whose data is not decoded. */
interface OpenedIdx {
  readonly file: string;
  readonly bytes: Buffer;
  readonly gzip: boolean;
  readonly header: IdxHeader;
}

const gunzipAsync = promisify(zlib.gunzip) as (
  buf: Uint8Array,
  options: zlib.ZlibOptions,
) => Promise<Buffer>;

/** Reads the IDX header at the start of a gzip stream, decompressing only a short prefix. */
const peekGzipHeader = (bytes: Buffer, file: string): E.Either<DataError, IdxHeader> => {
  // A prefix of `p` compressed bytes inflates to at most ~1032 p bytes: the peek is bounded.
  for (const prefix of [512, 8192, 65536]) {
    const end = Math.min(prefix, bytes.length);
    let out: Buffer;
    try {
      out = zlib.gunzipSync(bytes.subarray(0, end), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
    } catch (cause) {
      return E.left(notGzip(file, `corrupt gzip data: ${describeCause(cause)}`));
    }
    const enough = out.length >= 4 && out.length >= 4 + 4 * (out[3] ?? 0);
    if (enough || end === bytes.length) return parseIdxHeader(out, file);
  }
  return E.left(corrupt(file, "the gzip stream does not start with an IDX header"));
};

const openIdx = async (file: string): Promise<E.Either<DataError, OpenedIdx>> => {
  // A raw file whose header does not match its size is refused before it is read in full.
  const read = await readFileChecked(file, 4 + 4 * 255, (head, size) =>
    isGzip(head)
      ? E.right(undefined)
      : E.chain((header: IdxHeader) => checkRawLength(header, size, file))(
          parseIdxHeader(head, file),
        ),
  );
  if (E.isLeft(read)) return read;
  const bytes = read.right;
  if (!isGzip(bytes)) {
    return E.map((header: IdxHeader) => ({ file, bytes, gzip: false, header }))(
      parseIdxHeader(bytes, file),
    );
  }
  const header = peekGzipHeader(bytes, file);
  if (E.isLeft(header)) return header;
  const expected = header.right.headerBytes + header.right.dataBytes;
  const ceiling = bytes.length * MAX_DEFLATE_RATIO + 1024;
  if (expected > ceiling) {
    return E.left(
      corrupt(
        file,
        `the IDX header claims shape [${header.right.shape.join(", ")}] (${expected} bytes) but ` +
          `a ${bytes.length}-byte gzip file cannot decompress to more than ${ceiling} bytes: ` +
          "the header is wrong or the file is truncated",
      ),
    );
  }
  if (expected > MAX_LENGTH) {
    return E.left(corrupt(file, `the IDX data is ${expected} bytes, too large to hold in memory`));
  }
  return E.right({ file, bytes, gzip: true, header: header.right });
};

const materialize = async (opened: OpenedIdx): Promise<E.Either<DataError, IdxArray>> => {
  const { file, bytes, gzip, header } = opened;
  if (!gzip) return E.right(decodeBody(header, bytes));
  const expected = header.headerBytes + header.dataBytes;
  let out: Buffer;
  try {
    out = await gunzipAsync(bytes, { maxOutputLength: Math.max(1, expected) });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      return E.left(
        corrupt(
          file,
          `decompresses to more than the ${expected} bytes its IDX header implies ` +
            `(shape [${header.shape.join(", ")}] ${header.dtype})`,
        ),
      );
    }
    return E.left(notGzip(file, `corrupt or truncated gzip data: ${describeCause(cause)}`));
  }
  return decodeIdx(out, file);
};

/**
 * Reads an IDX file, raw or gzipped (detected by the magic `1f 8b`).
 * @example
 * const labels = await readIdx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
 * // Right({ dtype: "uint8", shape: [10000], data: Uint8Array(10000) })
 */
export const readIdx = async (file: string): Promise<E.Either<DataError, IdxArray>> => {
  const opened = await openIdx(file);
  return E.isLeft(opened) ? opened : materialize(opened.right);
};

/**
 * Reads an image file (uint8, shape [n, h, w] or [n, h, w, c]) and a label file (uint8,
 * shape [n]) into a `Split`. Both headers are checked, and the counts compared, before
 * either file is decompressed; every label must be below `numClasses`.
 */
export const readIdxSplit = async (
  imagesFile: string,
  labelsFile: string,
  numClasses: number,
): Promise<E.Either<DataError, Split>> => {
  const [images, labels] = await Promise.all([openIdx(imagesFile), openIdx(labelsFile)]);
  if (E.isLeft(images)) return images;
  if (E.isLeft(labels)) return labels;
  const ih = images.right.header;
  const lh = labels.right.header;
  if (ih.dtype !== "uint8" || (ih.shape.length !== 3 && ih.shape.length !== 4)) {
    return E.left(
      corrupt(
        imagesFile,
        `expected uint8 images of shape [n, h, w] or [n, h, w, c], the header says ` +
          `[${ih.shape.join(", ")}] ${ih.dtype} (is this a label file?)`,
      ),
    );
  }
  if (lh.dtype !== "uint8" || lh.shape.length !== 1) {
    return E.left(
      corrupt(
        labelsFile,
        `expected uint8 labels of shape [n], the header says [${lh.shape.join(", ")}] ${lh.dtype} ` +
          "(is this an image file?)",
      ),
    );
  }
  const count = ih.shape[0] ?? 0;
  if (lh.shape[0] !== count) {
    return E.left(
      corrupt(
        labelsFile,
        `holds ${lh.shape[0]} labels but ${imagesFile} holds ${count} images: the files do not belong together`,
      ),
    );
  }
  const [h, w, c] = [ih.shape[1] ?? 0, ih.shape[2] ?? 0, ih.shape[3] ?? 1];
  if (count === 0 || h === 0 || w === 0 || c === 0) {
    return E.left(corrupt(imagesFile, `holds no pixels: shape [${ih.shape.join(", ")}]`));
  }
  const [imageData, labelData] = await Promise.all([
    materialize(images.right),
    materialize(labels.right),
  ]);
  if (E.isLeft(imageData)) return imageData;
  if (E.isLeft(labelData)) return labelData;
  const labelBytes = labelData.right.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    const label = labelBytes[i] ?? 0;
    if (label >= numClasses) {
      return E.left(corrupt(labelsFile, `label ${i} is ${label}, outside 0..${numClasses - 1}`));
    }
  }
  return E.right({
    images: imageData.right.data as Uint8Array,
    labels: labelBytes,
    count,
    imageShape: [h, w, c],
    numClasses,
  });
};
