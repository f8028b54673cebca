/**
 * Every error @wider/data returns or throws has the one Wider shape: `_tag: "DataError"`, a
 * shared kind, and `path`/`value`/`fix` where known. Faults in files and options are Lefts;
 * mistakes in arguments written in code are thrown `WiderFailure`s.
 */
import { errorKinds, isWiderError, type WiderError, WiderFailure } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import { planBatches } from "../src/batchPlan.js";
import { toBatchTensors } from "../src/batchTensors.js";
import { decodeCifar } from "../src/cifar.js";
import { decodeIdx, readIdx } from "../src/idx.js";
import { loadDataset } from "../src/loadDataset.js";
import { gather, holdOut, type Split, subset } from "../src/split.js";
import { tempDir, uint8Idx } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const leftOf = <A>(r: E.Either<WiderError, A>): WiderError => {
  if (E.isRight(r)) throw new Error("expected a Left, got a Right");
  return r.left;
};

const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
};

const expectShape = (e: unknown, kind: string): void => {
  expect(isWiderError(e)).toBe(true);
  if (!isWiderError(e)) return;
  expect(e._tag).toBe("DataError");
  expect(errorKinds).toContain(e.kind);
  expect(e.kind).toBe(kind);
  expect(e.message.length).toBeGreaterThan(10);
};

const split: Split = {
  images: new Uint8Array(4 * 4),
  labels: Uint8Array.from([0, 1, 2, 7]),
  count: 4,
  imageShape: [2, 2, 1],
  numClasses: 3,
};

describe("returned errors (Left) are DataErrors with shared kinds", () => {
  it("options and names: config, with path and value", async () => {
    const name = leftOf(await loadDataset("mnsit"));
    expectShape(name, "config");
    expect([name.path, name.value]).toEqual(["name", "mnsit"]);
    expect(name.fix).toMatch(/mnist, fashion-mnist/);

    const count = leftOf(await loadDataset("mnist", { validation: { count: -1, seed: 0 } }));
    expectShape(count, "config");
    expect([count.path, count.value]).toEqual(["options.validation.count", -1]);

    const typo = leftOf(await loadDataset("mnist", JSON.parse('{"dri": "/x"}')));
    expectShape(typo, "config");
    expect([typo.path, typo.value]).toEqual(["options.dri", "/x"]);

    const notObject = leftOf(await loadDataset("mnist", JSON.parse("5")));
    expectShape(notObject, "config");
    expect(notObject.value).toBe(5);
  });

  it("missing sources and unreadable files: io, with the path and the fix", async () => {
    const dir = `${tmp.dir}/absent`;
    const missing = leftOf(await loadDataset("fashion-mnist", { dir }));
    expectShape(missing, "io");
    expect(missing.path).toBe(dir);
    expect(missing.fix).toMatch(/apt-get install dataset-fashion-mnist/);

    const cifar = leftOf(await loadDataset("cifar10"));
    expectShape(cifar, "io");
    expect(cifar.fix).toMatch(/cifar-10-binary.tar.gz/);

    const none = leftOf(await readIdx(`${tmp.dir}/no-such-file`));
    expectShape(none, "io");
    expect(none.path).toBe(`${tmp.dir}/no-such-file`);
  });

  it("damaged files: corrupt, naming the file, with the fix", async () => {
    const bytes = uint8Idx([2, 2], () => 0);
    bytes[0] = 0x50;
    const magic = leftOf(decodeIdx(bytes, "bad.idx"));
    expectShape(magic, "corrupt");
    expect(magic.path).toBe("bad.idx");
    expect(magic.fix).toMatch(/download it again/);
    expect(magic.message).toContain(magic.fix);

    const gz = tmp.write("damaged.gz", Uint8Array.from([0x1f, 0x00, 0x08, 0x00, 1, 2, 3, 4]));
    const gzip = leftOf(await readIdx(gz));
    expectShape(gzip, "corrupt");
    expect(gzip.path).toBe(gz);

    const cifar = leftOf(decodeCifar(new Uint8Array(100), "batch.bin", "cifar10"));
    expectShape(cifar, "corrupt");
    expect(cifar.path).toBe("batch.bin");
  });
});

describe("thrown errors (programmer's mistakes) are WiderFailures", () => {
  it("bad arguments: config, with path and value", () => {
    const plan = thrown(() => planBatches({ count: 10, batchSize: 0, seed: 0 }));
    expect(plan).toBeInstanceOf(WiderFailure);
    expectShape(plan, "config");
    expect(plan).toMatchObject({ path: "batchSize", value: 0 });

    const sub = thrown(() => subset(split, -1));
    expectShape(sub, "config");
    expect(sub).toMatchObject({ path: "n", value: -1 });

    const held = thrown(() => holdOut(split, { count: 5, seed: 0 }));
    expectShape(held, "config");

    const std = thrown(() => toBatchTensors(split, [0], { normalize: { mean: [0], std: [0] } }));
    expectShape(std, "config");
    expect(std).toMatchObject({ path: "normalize.std[0]", value: 0 });
  });

  it("indices and labels outside the split: shape", () => {
    const index = thrown(() => gather(split, [0, 9]));
    expect(index).toBeInstanceOf(WiderFailure);
    expectShape(index, "shape");
    expect(index).toMatchObject({ path: "indices[1]", value: 9 });

    const label = thrown(() => toBatchTensors(split, [3]));
    expectShape(label, "shape");
    expect(label).toMatchObject({ path: "labels[3]", value: 7 });
  });
});
