import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { canonicalJson, disposeWeights, flatten, saveWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { disposeState, ema, loadState, saveState, swa } from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "wider-averaging-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const w = (v: number) => ({ "d/kernel": tf.fill([2, 3], v), "d/bias": tf.fill([3], -v) });

describe("saveState / loadState", () => {
  it("round-trips n, the mean and user metadata; continuing from a loaded state equals not stopping", async () => {
    const avg = swa();
    const ws = [1, 2, 3, 4].map(w);
    let s = avg.init();
    for (const x of ws.slice(0, 2)) s = avg.update(s, x);
    expect(E.isRight(await saveState(dir, s, { epoch: 7 }))).toBe(true);
    const r = await loadState(dir);
    if (E.isLeft(r)) throw new Error(r.left.message);
    expect(r.right.metadata).toEqual({ epoch: 7 });
    let loaded = r.right.state;
    expect(loaded.n).toBe(2);
    expect(Array.from(flatten(loaded.mean!))).toEqual(Array.from(flatten(s.mean!)));
    for (const x of ws.slice(2)) {
      s = avg.update(s, x);
      loaded = avg.update(loaded, x);
    }
    expect(Array.from(flatten(loaded.mean!))).toEqual(Array.from(flatten(s.mean!)));
    expect(loaded.n).toBe(4);
    for (const x of ws) disposeWeights(x);
    disposeState(s);
    disposeState(loaded);
  });

  it("round-trips the empty initial state", async () => {
    expect(E.isRight(await saveState(dir, ema({ decay: 0.9 }).init()))).toBe(true);
    const r = await loadState(dir);
    expect(r).toEqual(E.right({ state: { n: 0, mean: null } }));
  });

  it("rejects a directory that is not an averager state, and inconsistent n, without leaking", async () => {
    const x = w(1);
    await saveWeights(dir, x);
    const before = tf.memory().numTensors;
    const r = await loadState(dir);
    expect(E.isLeft(r) && r.left.message).toMatch(/not an averager state/);
    const s = swa().update(swa().init(), x);
    await saveState(dir, s);
    const file = join(dir, "manifest.json");
    const m = JSON.parse(await readFile(file, "utf8"));
    m.metadata.n = 0;
    // An edited manifest is refused by @wider/weights' checksum before the state is looked at.
    await writeFile(file, JSON.stringify(m));
    const edited = await loadState(dir);
    expect(E.isLeft(edited) && edited.left.message).toMatch(/^checkpoint is corrupt: /);
    // Re-signed (as a buggy writer would), it reaches the averager's own consistency check.
    const { manifestSha256: _, ...body } = m;
    const manifestSha256 = createHash("sha256").update(canonicalJson(body)).digest("hex");
    await writeFile(file, JSON.stringify({ ...body, manifestSha256 }));
    const r2 = await loadState(dir);
    expect(E.isLeft(r2) && r2.left.message).toMatch(/n is 0 but the mean is present/);
    disposeState(s);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(x);
  });
});
