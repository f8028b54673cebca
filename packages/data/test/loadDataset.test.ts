import { mkdirSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import { datasetNames, defaultDir, loadDataset } from "../src/loadDataset.js";
import { gzip, tempDir, uint8Idx } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const message = async (promise: ReturnType<typeof loadDataset>): Promise<string> => {
  const result = await promise;
  if (E.isRight(result)) throw new Error("expected a Left, got a Right");
  return result.left.message;
};

describe("loadDataset options (io-ts at the edge)", () => {
  it("refuses an unknown name, listing the known ones", async () => {
    expect(await message(loadDataset("mnsit"))).toBe(
      'dataset: unknown name "mnsit"; use one of mnist, fashion-mnist, cifar10, cifar100',
    );
    expect(datasetNames).toEqual(["mnist", "fashion-mnist", "cifar10", "cifar100"]);
  });

  it("names the bad field, its value and what is expected", async () => {
    expect(await message(loadDataset("mnist", { validation: { count: -1, seed: 0 } }))).toBe(
      "options.validation.count is -1; expected a positive integer",
    );
    expect(await message(loadDataset("mnist", { validation: { count: 10, seed: 1.5 } }))).toBe(
      "options.validation.seed is 1.5; expected an integer in 0..4294967295",
    );
    expect(await message(loadDataset("mnist", { dir: "" }))).toBe(
      'options.dir is ""; expected a non-empty string',
    );
    // An options object from JSON or a CLI may carry a typo.
    const typo = JSON.parse('{"validaton": {"count": 5, "seed": 0}}');
    expect(await message(loadDataset("mnist", typo))).toBe(
      "options.validaton is not a known field (known: dir, validation)",
    );
  });

  it("says exactly how to get Fashion-MNIST when its directory is missing", async () => {
    const text = await message(loadDataset("fashion-mnist", { dir: `${tmp.dir}/absent` }));
    expect(text).toContain(`directory ${tmp.dir}/absent does not exist`);
    expect(text).toContain("apt-get install dataset-fashion-mnist");
    expect(text).toContain("--data-dir");
    expect(defaultDir("fashion-mnist")).toBe("/usr/share/datasets/fashion-mnist");
  });
});

describe("loadDataset from a directory of IDX files", () => {
  const write = (sub: string, counts: [number, number, number, number]) => {
    const [trainImages, trainLabels, testImages, testLabels] = counts;
    mkdirSync(`${tmp.dir}/${sub}`);
    tmp.write(`${sub}/train-images-idx3-ubyte.gz`, gzip(uint8Idx([trainImages, 4, 4], (i) => i)));
    tmp.write(
      `${sub}/train-labels-idx1-ubyte`,
      uint8Idx([trainLabels], (i) => i % 10),
    );
    tmp.write(
      `${sub}/t10k-images-idx3-ubyte`,
      uint8Idx([testImages, 4, 4], (i) => 255 - i),
    );
    tmp.write(`${sub}/t10k-labels-idx1-ubyte.gz`, gzip(uint8Idx([testLabels], () => 3)));
  };

  it("reads raw and gzipped files, holds out a validation split and computes stats from train", async () => {
    write("ok", [30, 30, 8, 8]);
    const result = await loadDataset("mnist", {
      dir: `${tmp.dir}/ok`,
      validation: { count: 6, seed: 2 },
    });
    expect(E.isRight(result)).toBe(true);
    if (E.isLeft(result)) return;
    const ds = result.right;
    expect(ds.imageShape).toEqual([4, 4, 1]);
    expect([ds.train.count, ds.validation?.count, ds.test.count]).toEqual([24, 6, 8]);
    // stats are from the 24 remaining train images
    let sum = 0;
    for (const v of ds.train.images) sum += v / 255;
    expect(ds.stats.mean[0]).toBeCloseTo(sum / (24 * 16), 12);
    expect(
      await message(
        loadDataset("mnist", { dir: `${tmp.dir}/ok`, validation: { count: 30, seed: 0 } }),
      ),
    ).toBe("options.validation.count: got 30, but mnist has 30 training examples; use at most 29");
  });

  it("names the file whose counts disagree, and a missing file", async () => {
    write("bad", [30, 29, 8, 8]);
    expect(await message(loadDataset("fashion-mnist", { dir: `${tmp.dir}/bad` }))).toMatch(
      /bad\/train-labels-idx1-ubyte: holds 29 labels but .*bad\/train-images-idx3-ubyte.gz holds 30 images/,
    );
    expect(await message(loadDataset("fashion-mnist", { dir: tmp.dir }))).toMatch(
      /neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is in/,
    );
  });
});
