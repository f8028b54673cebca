/**
 * Reading IDX files (LeCun's MNIST files, Fashion-MNIST), raw or gzipped; Node only. The
 * in-memory decoding is in `idxDecode.ts` (browser-safe), re-exported here.
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
import { corrupt, type DataError, describeCause } from "./errors.js";
import { readFileChecked } from "./fileBytes.js";
import {
  checkRawLength,
  decodeBody,
  decodeIdx,
  type IdxArray,
  type IdxHeader,
  isGzip,
  notGzip,
  parseIdxHeader,
} from "./idxDecode.js";
import type { Split } from "./split.js";

export {
  decodeIdx,
  type IdxArray,
  type IdxData,
  type IdxDtype,
  type IdxHeader,
  isGzip,
  looksLikeDamagedGzip,
  parseIdxHeader,
  splitFromIdx,
} from "./idxDecode.js";

/**
 * Deflate cannot expand data by more than about 1032:1, so a gzip file of `n` bytes
 * decompresses to at most `n * 1032` bytes (plus slack for tiny files). A header that
 * claims more than this is refused before decompressing anything.
 */
const MAX_DEFLATE_RATIO = 1032;

/** The largest Buffer Node can allocate. */
const MAX_LENGTH = bufferConstants.MAX_LENGTH;

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
