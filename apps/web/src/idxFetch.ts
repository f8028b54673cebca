/**
 * The page's data: IDX files the build copied into the app's assets (`data/<name>/*.gz`), fetched
 * from the app's own origin, decompressed with `DecompressionStream` and decoded with
 * `@wider/data`'s browser entry. Nothing comes from a third party.
 *
 * @module
 */
import { decodeIdx, isGzip, type Split, splitFromIdx } from "@wider/data";
import * as E from "fp-ts/lib/Either.js";
import type { DatasetName } from "./settings.js";

/** The four IDX files of MNIST-style data sets, as the build names them (gzipped). */
export const idxFiles = {
  trainImages: "train-images-idx3-ubyte.gz",
  trainLabels: "train-labels-idx1-ubyte.gz",
  testImages: "t10k-images-idx3-ubyte.gz",
  testLabels: "t10k-labels-idx1-ubyte.gz",
} as const;

/** Gunzips `bytes` with the platform's `DecompressionStream`. */
export const gunzip = async (bytes: Uint8Array): Promise<Uint8Array> => {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};

/**
 * Fetches one file; gunzips it when it starts with the gzip magic (a host that already sent it
 * with `Content-Encoding: gzip` hands over the decompressed bytes).
 */
export const fetchBytes = async (url: string): Promise<Uint8Array> => {
  const r = await fetch(url);
  if (!r.ok)
    throw new Error(
      `${url}: HTTP ${r.status}; the app's data files are missing: rebuild the app (pnpm --filter @wider/web build) and serve its dist/ folder`,
    );
  const bytes = new Uint8Array(await r.arrayBuffer());
  return isGzip(bytes) ? gunzip(bytes) : bytes;
};

const split = async (base: string, dir: string, images: string, labels: string): Promise<Split> => {
  const [ib, lb] = await Promise.all([
    fetchBytes(`${base}${dir}/${images}`),
    fetchBytes(`${base}${dir}/${labels}`),
  ]);
  const i = decodeIdx(ib, images);
  if (E.isLeft(i)) throw new Error(i.left.message);
  const l = decodeIdx(lb, labels);
  if (E.isLeft(l)) throw new Error(l.left.message);
  const s = splitFromIdx(i.right, l.right, 10, { images, labels });
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};

/** The train and test splits of `name`, from `<base>data/<name>/`. */
export const fetchDataset = async (
  base: string,
  name: DatasetName,
): Promise<{ readonly train: Split; readonly test: Split }> => {
  const dir = `data/${name}`;
  const [train, test] = await Promise.all([
    split(base, dir, idxFiles.trainImages, idxFiles.trainLabels),
    split(base, dir, idxFiles.testImages, idxFiles.testLabels),
  ]);
  return { train, test };
};
