import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import type { DataError } from "../src/errors.js";
import { decodeIdx, isGzip, readIdx, readIdxSplit } from "../src/idx.js";
import { gzip, idxBytes, tempDir, uint8Idx } from "./helpers.js";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const leftOf = <A>(result: E.Either<DataError, A>): DataError => {
  if (E.isRight(result)) throw new Error("expected a Left, got a Right");
  return result.left;
};

describe("readIdx on good files", () => {
  it("reads a raw uint8 file", async () => {
    const file = tmp.write(
      "good-raw",
      uint8Idx([3, 2, 2], (i) => i * 7),
    );
    const result = await readIdx(file);
    expect(E.isRight(result)).toBe(true);
    if (E.isRight(result)) {
      expect(result.right.dtype).toBe("uint8");
      expect(result.right.shape).toEqual([3, 2, 2]);
      expect(Array.from(result.right.data)).toEqual([...Array(12).keys()].map((i) => i * 7));
    }
  });

  it("reads the same file gzipped, detected by content, not by name", async () => {
    const raw = uint8Idx([4, 3], (i) => 250 - i);
    const file = tmp.write("good-gz-no-suffix", gzip(raw));
    expect(isGzip(gzip(raw))).toBe(true);
    expect(isGzip(raw)).toBe(false);
    const result = await readIdx(file);
    expect(E.isRight(result) && Array.from(result.right.data)).toEqual(
      Array.from(raw.subarray(12)),
    );
  });

  it("decodes big-endian int32, int16 and float32 data", () => {
    const i32 = Buffer.alloc(8);
    i32.writeInt32BE(-5, 0);
    i32.writeInt32BE(70000, 4);
    const r1 = decodeIdx(idxBytes(0x0c, [2], i32), "i32");
    expect(E.isRight(r1) && Array.from(r1.right.data)).toEqual([-5, 70000]);
    const i16 = Buffer.alloc(4);
    i16.writeInt16BE(-300, 0);
    i16.writeInt16BE(300, 2);
    const r2 = decodeIdx(idxBytes(0x0b, [1, 2], i16), "i16");
    expect(E.isRight(r2) && Array.from(r2.right.data)).toEqual([-300, 300]);
    const f32 = Buffer.alloc(4);
    f32.writeFloatBE(1.5, 0);
    const r3 = decodeIdx(idxBytes(0x0d, [1], f32), "f32");
    expect(E.isRight(r3) && r3.right.dtype).toBe("float32");
    expect(E.isRight(r3) && Array.from(r3.right.data)).toEqual([1.5]);
  });
});

describe("readIdx on bad files", () => {
  it("refuses a wrong magic, naming the file", async () => {
    const bytes = uint8Idx([2, 2], () => 0);
    bytes[0] = 0x50; // e.g. a PNG or text file
    const file = tmp.write("bad-magic", bytes);
    const error = leftOf(await readIdx(file));
    expect(error.kind).toBe("corrupt");
    expect(error.path).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/bad IDX magic 50 00 08 02/);
  });

  it("refuses an unknown dtype code", async () => {
    const bytes = uint8Idx([2], () => 0);
    bytes[2] = 0x07;
    const error = leftOf(await readIdx(tmp.write("bad-dtype", bytes)));
    expect(error.message).toMatch(/unknown IDX dtype code 0x07/);
  });

  it("refuses a truncated file and one with trailing bytes", async () => {
    const good = uint8Idx([10, 4, 4], (i) => i);
    const truncated = leftOf(await readIdx(tmp.write("truncated", good.subarray(0, 100))));
    expect(truncated.message).toMatch(/truncated.*\[10, 4, 4\].*176 bytes.*holds only 100/);
    const long = leftOf(await readIdx(tmp.write("long", Buffer.concat([good, Buffer.alloc(3)]))));
    expect(long.message).toMatch(/3 unexpected bytes after the data/);
    const header = leftOf(await readIdx(tmp.write("short-header", good.subarray(0, 9))));
    expect(header.message).toMatch(/truncated IDX header/);
  });

  it("refuses a raw header claiming far more data than the file holds, without allocating it", async () => {
    // Claims 2^32-1 x 2^32-1 x 255 uint8 elements (more than any memory) in a 30-byte file.
    const bytes = idxBytes(0x08, [0xffffffff, 0xffffffff, 255], new Uint8Array(14));
    const error = leftOf(await readIdx(tmp.write("huge-raw", bytes)));
    expect(error.message).toMatch(/impossible shape|truncated/);
    const big = idxBytes(0x08, [60000, 28, 28], new Uint8Array(100));
    const error2 = leftOf(await readIdx(tmp.write("huge-raw-2", big)));
    expect(error2.message).toMatch(/truncated.*47040016 bytes in all.*holds only 116/);
  });

  it("refuses a gzip header claiming more than the gzip file can decompress to", async () => {
    // 2 GB claimed in a few dozen compressed bytes: refused before decompressing anything.
    const bytes = gzip(idxBytes(0x08, [2000, 1000, 1000], new Uint8Array(64)));
    const error = leftOf(await readIdx(tmp.write("huge-gz", bytes)));
    expect(error.message).toMatch(/cannot decompress to more than/);
  });

  it("refuses gzip data that decompresses to more than the header implies", async () => {
    // The header says 4 bytes; the stream holds 1 MB of zeros (compresses well).
    const bytes = gzip(idxBytes(0x08, [4], new Uint8Array(1 << 20)));
    const error = leftOf(await readIdx(tmp.write("gz-bomb", bytes)));
    expect(error.message).toMatch(/decompresses to more than the 12 bytes its IDX header implies/);
  });

  it("refuses a truncated gzip stream and a corrupt one", async () => {
    const good = gzip(uint8Idx([50, 10, 10], (i) => (i * 31) % 251));
    const cut = leftOf(await readIdx(tmp.write("gz-cut", good.subarray(0, good.length - 40))));
    expect(cut.kind).toBe("corrupt");
    expect(cut.message).toMatch(/gzip/);
    const garbled = Buffer.from(good);
    for (let i = 10; i < 40; i++) garbled[i] = 0xff;
    const bad = leftOf(await readIdx(tmp.write("gz-garbled", garbled)));
    expect(bad.message).toMatch(/not a valid gzip file: .*gz-garbled \(/);
  });

  it("says a missing file cannot be read", async () => {
    const error = leftOf(await readIdx(`${tmp.dir}/no-such-file`));
    expect(error.kind).toBe("io");
    expect(error.message).toMatch(/no-such-file: cannot read the file.*ENOENT/);
  });
});

describe("readIdxSplit", () => {
  it("pairs images and labels into a split", async () => {
    const images = tmp.write("s-images", gzip(uint8Idx([5, 3, 2], (i) => i)));
    const labels = tmp.write(
      "s-labels",
      uint8Idx([5], (i) => i % 3),
    );
    const result = await readIdxSplit(images, labels, 3);
    expect(E.isRight(result)).toBe(true);
    if (E.isRight(result)) {
      expect(result.right.count).toBe(5);
      expect(result.right.imageShape).toEqual([3, 2, 1]);
      expect(Array.from(result.right.labels)).toEqual([0, 1, 2, 0, 1]);
      expect(result.right.images.length).toBe(30);
    }
  });

  it("refuses image and label counts that disagree", async () => {
    const images = tmp.write(
      "m-images",
      uint8Idx([5, 3, 2], (i) => i),
    );
    const labels = tmp.write("m-labels", gzip(uint8Idx([4], () => 1)));
    const error = leftOf(await readIdxSplit(images, labels, 10));
    expect(error.message).toMatch(/m-labels: holds 4 labels but .*m-images holds 5 images/);
  });

  it("refuses swapped files and out-of-range labels", async () => {
    const images = tmp.write(
      "w-images",
      uint8Idx([5, 3, 2], (i) => i),
    );
    const labels = tmp.write(
      "w-labels",
      uint8Idx([5], (i) => i),
    );
    expect(leftOf(await readIdxSplit(labels, images, 10)).message).toMatch(/is this a label file/);
    expect(leftOf(await readIdxSplit(images, labels, 4)).message).toMatch(
      /w-labels: label 4 is 4, outside 0..3/,
    );
  });
});

describe("damaged files: the message names the file, the problem and the fix", () => {
  const good = gzip(uint8Idx([6, 2, 2], (i) => i));
  const damaged = (name: string, edit: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    edit(b);
    return tmp.write(name, b);
  };
  const GZIP =
    /^not a valid gzip file: .+ \(.+\); the file is damaged or incomplete: download it again$/;

  it("a gzip file with a damaged magic is 'not a valid gzip file', not 'rank 0'", async () => {
    const cases: Array<[string, (b: Buffer) => void]> = [
      ["gz-magic-zeroed", (b) => b.fill(0, 0, 2)],
      ["gz-magic-first", (b) => (b[0] = 0x1e)],
      ["gz-magic-second", (b) => (b[1] = 0x0b)],
      ["gz-magic-flipped", (b) => (b[0] = 0x00)],
    ];
    for (const [name, edit] of cases) {
      const file = damaged(name, edit);
      const error = leftOf(await readIdx(file));
      expect(error.kind).toBe("corrupt");
      expect(error.message).toMatch(GZIP);
      expect(error.message).toContain(file);
      expect(error.message).not.toMatch(/rank 0/);
    }
    // Named .gz, any damage to the start that breaks the IDX reading says gzip too.
    const named = damaged("labels.gz", (b) => b.fill(0x41, 0, 4));
    expect(leftOf(await readIdx(named)).message).toMatch(
      /not a valid gzip file: .*labels\.gz \(it starts 41 41 41 41/,
    );
  });

  it("a corrupt or truncated gzip stream is 'not a valid gzip file' naming the file", async () => {
    const method = leftOf(await readIdx(damaged("gz-method", (b) => (b[2] = 0x07))));
    expect(method.message).toMatch(GZIP);
    expect(method.message).toMatch(/gz-method \(corrupt gzip data: /);
    const cut = leftOf(await readIdx(tmp.write("gz-cut2", good.subarray(0, good.length - 6))));
    expect(cut.message).toMatch(GZIP);
  });

  it("IDX header corruptions: bad magic, wrong dtype code, rank 0, dims not matching the size, truncated", async () => {
    const raw = uint8Idx([6, 2, 2], (i) => i);
    const setBytes = (b: Buffer, at: Record<number, number>): Buffer => {
      for (const [i, v] of Object.entries(at)) b[Number(i)] = v;
      return b;
    };
    const edit = (name: string, f: (b: Buffer) => Buffer) => tmp.write(name, f(Buffer.from(raw)));
    const cases: Array<[string, (b: Buffer) => Buffer, RegExp]> = [
      ["idx-magic", (b) => setBytes(b, { 1: 0x07 }), /bad IDX magic 00 07 08 03/],
      ["idx-dtype", (b) => setBytes(b, { 2: 0x0a }), /unknown IDX dtype code 0x0a/],
      ["idx-rank0", (b) => setBytes(b, { 2: 0x0c, 3: 0 }), /rank 0/],
      [
        "idx-dims",
        (b) => setBytes(b, { 7: 7 }),
        /header claims shape \[7, 2, 2\] uint8 \(44 bytes in all\) but the data holds only 40/,
      ],
      ["idx-short", (b) => b.subarray(0, 30), /truncated: .* holds only 30 bytes/],
      [
        "idx-header",
        (b) => b.subarray(0, 9),
        /truncated IDX header: rank 3 needs 16 bytes, found 9/,
      ],
      [
        "idx-extra",
        (b) => Buffer.concat([b, Buffer.alloc(3)]),
        /3 unexpected bytes after the data/,
      ],
    ];
    for (const [name, f, pattern] of cases) {
      const file = edit(name, f);
      const error = leftOf(await readIdx(file));
      expect(error.kind).toBe("corrupt");
      expect(error.message.startsWith(`${file}: `)).toBe(true);
      expect(error.message).toMatch(pattern);
      expect(error.message).toMatch(/download it again$/);
      expect(error.message).not.toMatch(/gzip/);
    }
  });
});
