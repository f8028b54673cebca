/**
 * The CIFAR-10 and CIFAR-100 binary formats (Krizhevsky 2009).
 *
 * A file is a sequence of fixed-size records with no header:
 * - CIFAR-10: 1 label byte (0..9), then 3072 pixel bytes;
 * - CIFAR-100: 1 coarse label byte (0..19), 1 fine label byte (0..99), then 3072 pixel bytes.
 * The pixels are planar (CHW): 1024 red bytes, 1024 green, 1024 blue, each 32 rows of 32.
 * The reader converts them to interleaved HWC (`[32, 32, 3]`), the layout TensorFlow.js uses.
 *
 * File sizes are checked (a positive whole number of records) with `stat` before any file
 * is read, and the output is allocated from those checked sizes.
 */
import { open, stat } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import { corrupt, type DataError, describeCause, unreadable } from "./errors.js";
import { readFully } from "./fileBytes.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Which CIFAR binary layout a file uses. */
export type CifarVariant = "cifar10" | "cifar100";

/** Decoded CIFAR records: HWC uint8 images and labels (fine labels for CIFAR-100). */
export interface CifarRecords {
  /** `count * 32 * 32 * 3` bytes, image by image, HWC. */
  readonly images: Uint8Array;
  /** CIFAR-10 label, or CIFAR-100 fine label. */
  readonly labels: Uint8Array;
  /** CIFAR-100 coarse (superclass) labels; absent for CIFAR-10. */
  readonly coarseLabels?: Uint8Array;
  readonly count: number;
}

const SIDE = 32;
const PLANE = SIDE * SIDE;
const PIXELS = 3 * PLANE;

/** Bytes per record: label byte(s) plus 3072 pixels. */
export const cifarRecordBytes = (variant: CifarVariant): number =>
  (variant === "cifar10" ? 1 : 2) + PIXELS;

const VARIANT_NAME: Readonly<Record<CifarVariant, string>> = {
  cifar10: "CIFAR-10",
  cifar100: "CIFAR-100",
};

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

const checkLength = (
  length: number,
  file: string,
  variant: CifarVariant,
): E.Either<DataError, number> => {
  const record = cifarRecordBytes(variant);
  if (length === 0 || length % record !== 0) {
    const whole = Math.floor(length / record);
    return E.left(
      corrupt(
        file,
        `holds ${length} bytes, not a positive whole number of ${record}-byte ` +
          `${VARIANT_NAME[variant]} records (${whole} records and ${length - whole * record} ` +
          "bytes over): the file is truncated or not in this format",
      ),
    );
  }
  return E.right(length / record);
};

/**
 * Decodes `bytes` (whole records) into `out` from record `offset`, converting CHW to HWC
 * and checking label ranges; `file` names the file in errors.
 */
const decodeInto = (
  bytes: Uint8Array,
  file: string,
  variant: CifarVariant,
  out: { images: Uint8Array; labels: Uint8Array; coarseLabels: Uint8Array | undefined },
  offset: number,
): E.Either<DataError, void> => {
  const record = cifarRecordBytes(variant);
  const labelBytes = record - PIXELS;
  const fineClasses = variant === "cifar10" ? 10 : 100;
  const n = bytes.length / record;
  for (let r = 0; r < n; r++) {
    const base = r * record;
    const fine = bytes[base + labelBytes - 1] ?? 0;
    if (fine >= fineClasses) {
      return E.left(
        corrupt(
          file,
          `record ${r} has label ${fine}, outside 0..${fineClasses - 1} for ${VARIANT_NAME[variant]}` +
            (variant === "cifar10" ? " (is this a CIFAR-100 file?)" : ""),
        ),
      );
    }
    out.labels[offset + r] = fine;
    if (out.coarseLabels !== undefined) {
      const coarse = bytes[base] ?? 0;
      if (coarse >= 20) {
        return E.left(
          corrupt(file, `record ${r} has coarse label ${coarse}, outside 0..19 for CIFAR-100`),
        );
      }
      out.coarseLabels[offset + r] = coarse;
    }
    const src = base + labelBytes;
    const dst = (offset + r) * PIXELS;
    const images = out.images;
    for (let p = 0; p < PLANE; p++) {
      const o = dst + 3 * p;
      images[o] = bytes[src + p] ?? 0;
      images[o + 1] = bytes[src + PLANE + p] ?? 0;
      images[o + 2] = bytes[src + 2 * PLANE + p] ?? 0;
    }
  }
  return E.right(undefined);
};

/**
 * Decodes one CIFAR binary file held in memory (whole records only), CHW to HWC.
 * @example
 * decodeCifar(bytes, "test_batch.bin", "cifar10"); // Right({ images, labels, count: 10000 })
 */
export const decodeCifar = (
  bytes: Uint8Array,
  file: string,
  variant: CifarVariant,
): E.Either<DataError, CifarRecords> => {
  const count = checkLength(bytes.length, file, variant);
  if (E.isLeft(count)) return count;
  const out = allocate(count.right, variant);
  const done = decodeInto(bytes, file, variant, out, 0);
  return E.isLeft(done) ? done : E.right(finish(out, count.right));
};

const allocate = (count: number, variant: CifarVariant) => ({
  images: new Uint8Array(count * PIXELS),
  labels: new Uint8Array(count),
  coarseLabels: variant === "cifar100" ? new Uint8Array(count) : undefined,
});

const finish = (out: ReturnType<typeof allocate>, count: number): CifarRecords =>
  out.coarseLabels === undefined
    ? { images: out.images, labels: out.labels, count }
    : { images: out.images, labels: out.labels, coarseLabels: out.coarseLabels, count };

/**
 * Reads and concatenates CIFAR binary files (e.g. `data_batch_1.bin` … `data_batch_5.bin`).
 * Every file's size is checked before anything is allocated; the images are converted to HWC.
 */
export const readCifar = async (
  files: readonly string[],
  variant: CifarVariant,
): Promise<E.Either<DataError, CifarRecords>> => {
  const counts: number[] = [];
  for (const file of files) {
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) return E.left(unreadable(file, "is not a regular file"));
      size = info.size;
    } catch (cause) {
      return E.left(unreadable(file, `cannot read the file (${describeCause(cause)})`));
    }
    const count = checkLength(size, file, variant);
    if (E.isLeft(count)) return count;
    counts.push(count.right);
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const out = allocate(total, variant);
  let offset = 0;
  for (const [k, file] of files.entries()) {
    const expected = (counts[k] ?? 0) * cifarRecordBytes(variant);
    const bytes = new Uint8Array(expected);
    try {
      const handle = await open(file, "r");
      try {
        const filled = await readFully(handle, bytes, 0);
        if (filled !== expected) {
          return E.left(
            corrupt(file, `read ${filled} bytes where ${expected} were expected (file changed?)`),
          );
        }
      } finally {
        await handle.close();
      }
    } catch (cause) {
      return E.left(unreadable(file, `cannot read the file (${describeCause(cause)})`));
    }
    const done = decodeInto(bytes, file, variant, out, offset);
    if (E.isLeft(done)) return done;
    offset += counts[k] ?? 0;
  }
  return E.right(finish(out, total));
};
