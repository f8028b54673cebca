import { mkdirSync } from "node:fs";
import * as path from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import { type CifarVariant, decodeCifar, readCifar } from "../src/cifar.js";
import { loadDataset } from "../src/loadDataset.js";
import { tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Pixel value of record r, channel c, row y, column x in the synthetic files. */
const pixel = (r: number, c: number, y: number, x: number): number =>
  (r * 11 + c * 37 + y * 5 + x * 3) & 0xff;

/** `count` CIFAR records (CHW planar); record r has fine label `label(r)`, coarse `r % 20`. */
const cifarBytes = (variant: CifarVariant, count: number, label: (r: number) => number) => {
  const head = variant === "cifar10" ? 1 : 2;
  const record = head + 3072;
  const bytes = new Uint8Array(count * record);
  for (let r = 0; r < count; r++) {
    const base = r * record;
    if (variant === "cifar100") bytes[base] = r % 20;
    bytes[base + head - 1] = label(r);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) bytes[base + head + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
  }
  return bytes;
};

describe("decodeCifar", () => {
  it("converts planar CHW records to HWC images", () => {
    const result = decodeCifar(
      cifarBytes("cifar10", 3, (r) => r + 4),
      "mem",
      "cifar10",
    );
    expect(E.isRight(result)).toBe(true);
    if (E.isLeft(result)) return;
    const { images, labels, count } = result.right;
    expect(count).toBe(3);
    expect(Array.from(labels)).toEqual([4, 5, 6]);
    let mismatches = 0;
    for (let r = 0; r < 3; r++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let c = 0; c < 3; c++)
            if (images[r * 3072 + (y * 32 + x) * 3 + c] !== pixel(r, c, y, x)) mismatches++;
    expect(mismatches).toBe(0);
  });

  it("reads CIFAR-100 coarse and fine labels", () => {
    const result = decodeCifar(
      cifarBytes("cifar100", 25, (r) => 99 - r),
      "mem",
      "cifar100",
    );
    expect(E.isRight(result) && Array.from(result.right.labels.subarray(0, 3))).toEqual([
      99, 98, 97,
    ]);
    expect(E.isRight(result) && result.right.coarseLabels?.[21]).toBe(1);
  });

  it("refuses a length that is not whole records, and labels out of range", () => {
    const bytes = cifarBytes("cifar10", 2, () => 1);
    const cut = decodeCifar(bytes.subarray(0, 5000), "cut.bin", "cifar10");
    expect(E.isLeft(cut) && cut.left.message).toMatch(
      /cut.bin: holds 5000 bytes, not a positive whole number of 3073-byte CIFAR-10 records \(1 records and 1927 bytes over\)/,
    );
    const empty = decodeCifar(new Uint8Array(0), "empty.bin", "cifar10");
    expect(E.isLeft(empty)).toBe(true);
    // A CIFAR-100 record (coarse label 12 first) read as CIFAR-10: label 12 is out of range.
    const c100 = cifarBytes("cifar100", 13, () => 50).subarray(12 * 3074, 12 * 3074 + 3073);
    const wrong = decodeCifar(c100, "w.bin", "cifar10");
    expect(E.isLeft(wrong) && wrong.left.message).toMatch(
      /w.bin: record 0 has label 12, outside 0..9 for CIFAR-10 \(is this a CIFAR-100 file\?\)/,
    );
  });
});

describe("readCifar and loadDataset('cifar10' | 'cifar100')", () => {
  const c10 = path.join(tmp.dir, "c10", "cifar-10-batches-bin");
  mkdirSync(c10, { recursive: true });
  for (let k = 1; k <= 5; k++) {
    tmp.write(
      `c10/cifar-10-batches-bin/data_batch_${k}.bin`,
      cifarBytes("cifar10", 2, () => k),
    );
  }
  tmp.write(
    "c10/cifar-10-batches-bin/test_batch.bin",
    cifarBytes("cifar10", 3, () => 9),
  );

  it("concatenates the five train batches in order", async () => {
    const loaded = await loadDataset("cifar10", { dir: path.join(tmp.dir, "c10") });
    expect(E.isRight(loaded)).toBe(true);
    if (E.isLeft(loaded)) return;
    const ds = loaded.right;
    expect(ds.dir).toBe(c10);
    expect(ds.imageShape).toEqual([32, 32, 3]);
    expect(ds.train.count).toBe(10);
    expect(ds.test.count).toBe(3);
    expect(Array.from(ds.train.labels)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(ds.classNames[9]).toBe("truck");
    expect(ds.stats.mean).toHaveLength(3);
    // The folder itself works as dir too.
    const direct = await loadDataset("cifar10", { dir: c10 });
    expect(E.isRight(direct) && direct.right.train.count).toBe(10);
  });

  it("loads CIFAR-100 from cifar-100-binary/", async () => {
    mkdirSync(path.join(tmp.dir, "c100", "cifar-100-binary"), { recursive: true });
    tmp.write(
      "c100/cifar-100-binary/train.bin",
      cifarBytes("cifar100", 4, (r) => 90 + r),
    );
    tmp.write(
      "c100/cifar-100-binary/test.bin",
      cifarBytes("cifar100", 2, () => 0),
    );
    const loaded = await loadDataset("cifar100", { dir: path.join(tmp.dir, "c100") });
    expect(E.isRight(loaded) && Array.from(loaded.right.train.labels)).toEqual([90, 91, 92, 93]);
    expect(E.isRight(loaded) && loaded.right.numClasses).toBe(100);
  });

  it("names a truncated batch file before reading anything", async () => {
    const dir = path.join(tmp.dir, "c10bad", "cifar-10-batches-bin");
    mkdirSync(dir, { recursive: true });
    for (let k = 1; k <= 5; k++) {
      const bytes = cifarBytes("cifar10", 2, () => 0);
      tmp.write(
        `c10bad/cifar-10-batches-bin/data_batch_${k}.bin`,
        k === 3 ? bytes.subarray(0, 6000) : bytes,
      );
    }
    tmp.write(
      "c10bad/cifar-10-batches-bin/test_batch.bin",
      cifarBytes("cifar10", 1, () => 0),
    );
    const result = await readCifar(
      [1, 2, 3, 4, 5].map((k) => path.join(dir, `data_batch_${k}.bin`)),
      "cifar10",
    );
    expect(E.isLeft(result) && result.left.message).toMatch(/data_batch_3.bin: holds 6000 bytes/);
  });

  it("says where to get CIFAR when no directory or file is there", async () => {
    const none = await loadDataset("cifar10");
    expect(E.isLeft(none) && none.left.kind).toBe("io");
    expect(E.isLeft(none) && none.left.message).toMatch(
      /nothing is downloaded at run time.*cifar-10-binary\.tar\.gz.*--data-dir/,
    );
    const empty = await loadDataset("cifar100", { dir: tmp.dir });
    expect(E.isLeft(empty) && empty.left.message).toMatch(
      /found neither cifar-100-binary\/ nor train.bin.*cifar-100-binary\.tar\.gz/,
    );
  });
});
