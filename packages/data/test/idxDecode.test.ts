import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import * as browser from "../src/browser.js";
import { decodeIdx, splitFromIdx } from "../src/idxDecode.js";
import { uint8Idx } from "./helpers.js";

const files = { images: "imgs", labels: "lbls" };
const decoded = (bytes: Uint8Array, file: string) => {
  const r = decodeIdx(bytes, file);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

describe("splitFromIdx (in-memory IDX, browser-safe)", () => {
  it("builds a split whose pixels and labels are the file's bytes", () => {
    const images = decoded(
      uint8Idx([3, 2, 2], (i) => (i * 7) % 256),
      "imgs",
    );
    const labels = decoded(
      uint8Idx([3], (i) => i + 1),
      "lbls",
    );
    const r = splitFromIdx(images, labels, 10, files);
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(r.right.count).toBe(3);
    expect(r.right.imageShape).toEqual([2, 2, 1]);
    expect(Array.from(r.right.images)).toEqual(Array.from({ length: 12 }, (_, i) => (i * 7) % 256));
    expect(Array.from(r.right.labels)).toEqual([1, 2, 3]);
  });

  it("refuses mismatched counts, swapped files and labels out of range, naming the file", () => {
    const images = decoded(
      uint8Idx([3, 2, 2], () => 0),
      "imgs",
    );
    const two = decoded(
      uint8Idx([2], () => 0),
      "lbls",
    );
    const big = decoded(
      uint8Idx([3], (i) => (i === 2 ? 10 : 0)),
      "lbls",
    );
    const count = splitFromIdx(images, two, 10, files);
    expect(E.isLeft(count) && count.left.message).toMatch(/lbls: holds 2 labels but imgs holds 3/);
    const swapped = splitFromIdx(two, images, 10, files);
    expect(E.isLeft(swapped) && swapped.left.message).toMatch(/imgs: .*is this a label file/);
    const range = splitFromIdx(images, big, 10, files);
    expect(E.isLeft(range) && range.left.message).toMatch(/lbls: label 2 is 10, outside 0\.\.9/);
  });

  it("the browser entry exports the in-memory API and no file reader", () => {
    expect(typeof browser.decodeIdx).toBe("function");
    expect(typeof browser.splitFromIdx).toBe("function");
    expect(typeof browser.planBatches).toBe("function");
    expect(typeof browser.toBatchTensors).toBe("function");
    expect("readIdx" in browser).toBe(false);
    expect("loadDataset" in browser).toBe(false);
  });
});
