import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, describe, expect, it } from "vitest";
import * as browser from "../src/browser.js";
import { decodeBundle, encodeBundle, sha256Hex } from "../src/encoding.js";
import { disposeWeights } from "../src/index.js";
import { loadWeights, saveWeights } from "../src/node.js";
import { sample } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "wider-encoding-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const values = (w: Record<string, tf.Tensor>) =>
  Object.fromEntries(Object.entries(w).map(([k, t]) => [k, [t.shape, Array.from(t.dataSync())]]));

describe("encodeBundle / decodeBundle (in memory, browser-safe)", () => {
  it("sha256Hex (Web Crypto) equals node:crypto's", async () => {
    for (const data of ["", "abc", new Uint8Array([0, 1, 2, 255])])
      expect(await sha256Hex(data)).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("round-trips weights and metadata with no tensor leaked", async () => {
    const w = sample(1);
    const before = tf.memory().numTensors;
    const enc = await encodeBundle({ groups: { weights: w }, metadata: { n: 3 } });
    if (E.isLeft(enc)) throw new Error(enc.left.message);
    const dec = await decodeBundle(enc.right.manifestText, enc.right.blob);
    if (E.isLeft(dec)) throw new Error(dec.left.message);
    expect(dec.right.metadata).toEqual({ n: 3 });
    expect(values(dec.right.groups.weights!)).toEqual(values(w));
    disposeWeights(dec.right.groups.weights!);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(w);
  });

  it("what it encodes loads with loadWeights from a directory, and a save decodes in memory", async () => {
    const w = sample(2);
    const enc = await encodeBundle({ groups: { weights: w } }, "w.bin");
    if (E.isLeft(enc)) throw new Error(enc.left.message);
    const a = join(dir, "a");
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(a);
    writeFileSync(join(a, "manifest.json"), enc.right.manifestText);
    writeFileSync(join(a, "w.bin"), enc.right.blob);
    const loaded = await loadWeights(a);
    if (E.isLeft(loaded)) throw new Error(loaded.left.message);
    expect(values(loaded.right.weights)).toEqual(values(w));
    disposeWeights(loaded.right.weights);

    const b = join(dir, "b");
    const saved = await saveWeights(b, w);
    if (E.isLeft(saved)) throw new Error(saved.left.message);
    const text = readFileSync(join(b, "manifest.json"), "utf8");
    const blobName = (JSON.parse(text) as { blob: string }).blob;
    const dec = await decodeBundle(text, readFileSync(join(b, blobName)));
    if (E.isLeft(dec)) throw new Error(dec.left.message);
    expect(values(dec.right.groups.weights!)).toEqual(values(w));
    disposeWeights(dec.right.groups.weights!);
    disposeWeights(w);
  });

  it("a changed blob byte or manifest field is refused as corrupt", async () => {
    const w = sample(0);
    const enc = await encodeBundle({ groups: { weights: w } });
    disposeWeights(w);
    if (E.isLeft(enc)) throw new Error(enc.left.message);
    const blob = enc.right.blob.slice();
    blob[5] = (blob[5]! + 1) % 256;
    const r1 = await decodeBundle(enc.right.manifestText, blob);
    expect(E.isLeft(r1) && r1.left.message).toMatch(
      /checkpoint is corrupt: weights\.bin: does not match its manifest/,
    );
    const r2 = await decodeBundle(
      enc.right.manifestText.replace('"blobBytes": ', '"blobBytes": 1'),
      enc.right.blob,
    );
    expect(E.isLeft(r2) && r2.left.message).toMatch(/checkpoint is corrupt: manifest\.json/);
  });

  it("the browser entry has the in-memory codec and no file functions", () => {
    expect(typeof browser.encodeBundle).toBe("function");
    expect(typeof browser.decodeBundle).toBe("function");
    expect("saveWeights" in browser).toBe(false);
  });
});
