import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  disposeWeights,
  flatten,
  loadBundle,
  loadWeights,
  MANIFEST_FILE,
  saveBundle,
  saveWeights,
  type Weights,
} from "../src/index.js";
import { resign, sample } from "./helpers.js";

let dir: string;
let w: Weights;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wider-weights-"));
  w = { ...sample(0.25), step: tf.tensor1d([7, -3], "int32") };
});
afterEach(async () => {
  disposeWeights(w);
  await rm(dir, { recursive: true, force: true });
});

const manifestPath = () => join(dir, MANIFEST_FILE);
const readManifestJson = async () => JSON.parse(await readFile(manifestPath(), "utf8"));
/** Writes `m` as the manifest with a recomputed manifestSha256, as a forger (or a buggy writer) would. */
const writeSigned = async (m: Record<string, unknown>) =>
  writeFile(manifestPath(), JSON.stringify(resign(m)));
const blobPath = async () => join(dir, (await readManifestJson()).blob as string);

describe("saveWeights / loadWeights", () => {
  it("round-trips values, shapes, dtypes, key order and metadata without leaking", async () => {
    orThrow(await saveWeights(dir, w, { epoch: 3, note: "x" }));
    const before = tf.memory().numTensors;
    const loaded = orThrow(await loadWeights(dir));
    expect(tf.memory().numTensors).toBe(before + Object.keys(w).length);
    expect(Object.keys(loaded.weights)).toEqual(Object.keys(w));
    for (const k of Object.keys(w)) {
      expect(loaded.weights[k]!.shape).toEqual(w[k]!.shape);
      expect(loaded.weights[k]!.dtype).toBe(w[k]!.dtype);
    }
    expect(Array.from(flatten(loaded.weights))).toEqual(Array.from(flatten(w)));
    expect(loaded.metadata).toEqual({ epoch: 3, note: "x" });
    disposeWeights(loaded.weights);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("overwrites a previous save atomically and leaves exactly one blob and no temp files", async () => {
    orThrow(await saveWeights(dir, w));
    const first = (await readManifestJson()).blob;
    const other = sample(9);
    orThrow(await saveWeights(dir, other, { v: 2 }));
    const files = await readdir(dir);
    expect(files.sort()).toEqual([MANIFEST_FILE, (await readManifestJson()).blob].sort());
    expect(files).not.toContain(first);
    const loaded = orThrow(await loadWeights(dir));
    expect(Array.from(flatten(loaded.weights))).toEqual(Array.from(flatten(other)));
    disposeWeights(loaded.weights);
    disposeWeights(other);
  });

  it("saves an empty weight set", async () => {
    orThrow(await saveWeights(dir, {}));
    const loaded = orThrow(await loadWeights(dir));
    expect(loaded.weights).toEqual({});
  });
});

describe("bundles: state with several weight sets and scalars", () => {
  it("round-trips groups (including an empty one) and metadata", async () => {
    const mean = sample(1);
    orThrow(
      await saveBundle(dir, {
        groups: { mean, sq: w, none: {} },
        metadata: { n: 12, kind: "swa" },
      }),
    );
    const b = orThrow(await loadBundle(dir));
    expect(Object.keys(b.groups)).toEqual(["mean", "sq", "none"]);
    expect(Array.from(flatten(b.groups.mean!))).toEqual(Array.from(flatten(mean)));
    expect(b.groups.none).toEqual({});
    expect(b.metadata).toEqual({ n: 12, kind: "swa" });
    // loadWeights refuses a multi-group bundle, without leaking.
    const before = tf.memory().numTensors;
    const r = await loadWeights(dir);
    expect(E.isLeft(r) && r.left.message).toMatch(/use loadBundle/);
    expect(tf.memory().numTensors).toBe(before);
    for (const g of Object.values(b.groups)) disposeWeights(g);
    disposeWeights(mean);
  });
});

describe("bad files give clear errors naming the file", () => {
  const expectLeft = async (kind: string, pattern: RegExp) => {
    const before = tf.memory().numTensors;
    const r = await loadWeights(dir);
    expect(E.isLeft(r)).toBe(true);
    if (E.isLeft(r)) {
      expect(r.left.kind).toBe(kind);
      expect(r.left.message).toMatch(pattern);
    }
    expect(tf.memory().numTensors).toBe(before);
  };

  it("missing directory or manifest", async () => {
    await expectLeft("io", /cannot read manifest .*manifest\.json/);
  });

  it("truncated blob", async () => {
    orThrow(await saveWeights(dir, w));
    const blob = await blobPath();
    await truncate(blob, 10);
    await expectLeft(
      "corrupt",
      /^checkpoint is corrupt: .*weights-[0-9a-f]+\.bin: is truncated: it has 10 bytes but .*manifest\.json says 76/,
    );
  });

  it("blob longer than the manifest says", async () => {
    orThrow(await saveWeights(dir, w));
    const blob = await blobPath();
    await writeFile(blob, Buffer.concat([await readFile(blob), Buffer.alloc(4)]));
    await expectLeft("corrupt", /is longer than expected/);
  });

  it("manifest/blob mismatch with the right size (another save's blob)", async () => {
    orThrow(await saveWeights(dir, w));
    const blob = await blobPath();
    const bytes = await readFile(blob);
    bytes[0] = (bytes[0]! + 1) % 256;
    await writeFile(blob, bytes);
    await expectLeft("corrupt", /does not match its manifest \(sha256/);
  });

  it("bad JSON", async () => {
    orThrow(await saveWeights(dir, w));
    const text = await readFile(manifestPath(), "utf8");
    await writeFile(manifestPath(), text.slice(0, text.length / 2));
    await expectLeft("corrupt", /^checkpoint is corrupt: .*manifest\.json: not valid JSON/);
  });

  it("a manifest failing the codec names the field and value", async () => {
    orThrow(await saveWeights(dir, w));
    const m = await readManifestJson();
    m.tensors[1].shape = [3, -1];
    await writeFile(manifestPath(), JSON.stringify(m));
    await expectLeft(
      "corrupt",
      /\$\.tensors\[1\]\.shape\[1\] is -1; expected a non-negative integer/,
    );
  });

  it("a manifest naming a path outside its directory", async () => {
    orThrow(await saveWeights(dir, w));
    for (const blob of ["../elsewhere.bin", "/etc/passwd", "sub/x.bin", ".."]) {
      const m = await readManifestJson();
      m.blob = blob;
      await writeSigned(m);
      await expectLeft(
        "corrupt",
        /is not a plain file name; a manifest may only name a file in its own directory/,
      );
    }
  });

  it("a correctly signed manifest that is inconsistent: sizes, overlaps, duplicates", async () => {
    orThrow(await saveWeights(dir, w));
    const base = await readManifestJson();
    const cases: Array<[(m: typeof base) => void, RegExp]> = [
      [
        (m) => {
          m.tensors[0].bytes += 4;
        },
        /but bytes is/,
      ],
      [
        (m) => {
          m.tensors[1].offset = m.tensors[0].offset;
        },
        /overlap/,
      ],
      [
        (m) => {
          m.tensors[1].name = m.tensors[0].name;
        },
        /appears twice/,
      ],
      [
        (m) => {
          m.tensors[3].offset = 1000;
        },
        /beyond blobBytes 76/,
      ],
    ];
    for (const [edit, pattern] of cases) {
      const m = structuredClone(base);
      edit(m);
      await writeSigned(m);
      await expectLeft("corrupt", pattern);
    }
  });
});
