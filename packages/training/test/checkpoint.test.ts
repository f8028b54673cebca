import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { constant } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  branch,
  disposeRunCheckpoint,
  disposeTrainingState,
  initLoop,
  loadRunCheckpoint,
  runSteps,
  saveRunCheckpoint,
  sgd,
  softmaxCrossEntropy,
  stateTensors,
} from "../src/index.js";
import { batchOf, buildClassifier, expectBitIdentical } from "./helpers.js";

let root: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "wider-run-ckpt-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const Meta = t.type({ phase: t.string, epoch: t.number });

describe("saveRunCheckpoint / loadRunCheckpoint", () => {
  it("round-trips two states, extra groups and metadata bit for bit, leak-free", async () => {
    const model = buildClassifier();
    const optimizer = sgd({ momentum: 0.9, weightDecay: 1e-3 });
    const before = tf.memory().numTensors;
    const r1 = await runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: constant(0.1),
      batches: (s) => batchOf(s),
      state: initLoop(model, optimizer),
      to: 3,
    });
    const pretrained = branch(model, r1.state);
    const r2 = await runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: constant(0.05),
      batches: (s) => batchOf(s),
      state: r1.state,
      to: 5,
    });
    const live = branch(model, r2.state);
    const mean = { "hidden/kernel": tf.randomNormal([6, 8], 0, 1, "float32", 3) };
    const dir = join(root, "a");
    const saved = await saveRunCheckpoint(dir, {
      states: { live, pretrained },
      groups: { swaMean: mean },
      meta: { phase: "swa", epoch: 2 },
    });
    expect(E.isRight(saved)).toBe(true);
    const loaded = await loadRunCheckpoint(dir, Meta);
    if (E.isLeft(loaded)) throw new Error(loaded.left.message);
    const c = loaded.right;
    expect(c.meta).toEqual({ phase: "swa", epoch: 2 });
    expect(Object.keys(c.states).sort()).toEqual(["live", "pretrained"]);
    expect(c.states.live?.step).toBe(5);
    expect(c.states.pretrained?.step).toBe(3);
    expect(c.states.live?.opt.count).toBe(live.opt.count);
    await expectBitIdentical(stateTensors(c.states.live!), stateTensors(live));
    await expectBitIdentical(stateTensors(c.states.pretrained!), stateTensors(pretrained));
    await expectBitIdentical(Object.entries(c.groups.swaMean!), Object.entries(mean));
    disposeRunCheckpoint(c);
    disposeTrainingState(live);
    disposeTrainingState(pretrained);
    tf.dispose(Object.values(mean));
    for (const w of Object.values(r2.state.opt.slots)) tf.dispose(Object.values(w));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("refuses bad names, wrong metadata and edited headers with a Left and no leak", async () => {
    const model = buildClassifier();
    const optimizer = sgd({ momentum: 0.9 });
    const s = branch(model, initLoop(model, optimizer));
    const bad = await saveRunCheckpoint(join(root, "b"), {
      states: { "a/b": s },
      groups: {},
      meta: null,
    });
    expect(E.isLeft(bad) && bad.left.message).toMatch(/"a\/b" is empty, "__proto__" or holds "\/"/);
    const dir = join(root, "c");
    expect(
      E.isRight(
        await saveRunCheckpoint(dir, { states: { s }, groups: {}, meta: { phase: "x", epoch: 1 } }),
      ),
    ).toBe(true);
    const before = tf.memory().numTensors;
    const wrongMeta = await loadRunCheckpoint(dir, t.type({ other: t.string }));
    expect(E.isLeft(wrongMeta) && wrongMeta.left.message).toMatch(/does not fit the codec/);
    expect(tf.memory().numTensors).toBe(before);
    disposeTrainingState(s);
    model.dispose();
  });
});
