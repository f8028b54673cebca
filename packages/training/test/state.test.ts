import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { isWiderError } from "@wider/errors";
import { cosine } from "@wider/schedules";
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adam,
  branch,
  disposeOptState,
  disposeTrainingState,
  initLoop,
  type LoopState,
  loadTrainingState,
  type Optimizer,
  restore,
  runSteps,
  saveTrainingState,
  sgd,
  softmaxCrossEntropy,
  stateTensors,
  type TrainingState,
} from "../src/index.js";
import { batchOf, buildClassifier, expectBitIdentical } from "./helpers.js";
import { killRun } from "./model.js";

let root: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "wider-training-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const loss = softmaxCrossEntropy();
const must = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};
const Meta = t.type({ epoch: t.number });

const runTo = async (
  model: tf.LayersModel,
  optimizer: Optimizer,
  state: LoopState,
  to: number,
  schedule: (s: number) => number,
): Promise<LoopState> =>
  (await runSteps({ model, optimizer, loss, schedule, batches: (s) => batchOf(s), state, to }))
    .state;

/** Runs 0 -> to in one go on a fresh model; returns the final whole state. */
const uninterrupted = async (optimizer: Optimizer, to: number, schedule: (s: number) => number) => {
  const model = buildClassifier();
  const end = await runTo(model, optimizer, initLoop(model, optimizer), to, schedule);
  const out = branch(model, end);
  disposeOptState(end.opt);
  model.dispose();
  return out;
};

/** Loads `dir` into a FRESH model (other initial weights), continues to `to`, returns the whole state. */
const resumeFrom = async (
  dir: string,
  optimizer: Optimizer,
  to: number,
  schedule: (s: number) => number,
) => {
  const loaded = must(await loadTrainingState(dir, Meta));
  const model = buildClassifier({ seed: 77 });
  const state = must(restore(model, loaded.state));
  const step = loaded.state.step;
  disposeTrainingState(loaded.state);
  const end = await runTo(model, optimizer, state, to, schedule);
  const out = branch(model, end);
  disposeOptState(end.opt);
  model.dispose();
  return { out, step, meta: loaded.meta };
};

describe("saveTrainingState / loadTrainingState", () => {
  const cases: Array<[string, Optimizer]> = [
    ["sgd + momentum", sgd({ momentum: 0.9, weightDecay: 5e-4 })],
    ["adam", adam({ weightDecay: 1e-4 })],
  ];
  for (const [name, optimizer] of cases) {
    it(`${name}: stop at step 7, save, load into a fresh model, continue to 16 = an uninterrupted run, bit for bit`, async () => {
      const schedule = cosine({ from: 0.05, to: 0.001, steps: 16 });
      const ref = await uninterrupted(optimizer, 16, schedule);

      const model = buildClassifier();
      const k = await runTo(model, optimizer, initLoop(model, optimizer), 7, schedule);
      const saved = branch(model, k);
      disposeOptState(k.opt);
      model.dispose();
      const dir = join(root, name.replace(/\W+/g, "-"));
      must(await saveTrainingState(dir, saved, { epoch: 1 }));
      disposeTrainingState(saved);

      // The fresh model really starts elsewhere: restore is what makes the runs agree.
      const fresh = buildClassifier({ seed: 77 });
      const fw = fresh.getWeights()[0]!.dataSync();
      expect(Array.from(fw)).not.toEqual(Array.from(ref.weights["hidden/kernel"]!.dataSync()));
      fresh.dispose();

      const before = tf.memory().numTensors;
      const { out, step, meta } = await resumeFrom(dir, optimizer, 16, schedule);
      expect(step).toBe(7);
      expect(meta).toEqual({ epoch: 1 });
      expect(out.opt.count).toBe(16);
      expectBitIdentical(stateTensors(out), stateTensors(ref));
      disposeTrainingState(out);
      expect(tf.memory().numTensors).toBe(before);
      disposeTrainingState(ref);
    });
  }

  it("a directory that is not a training checkpoint, or metadata the codec refuses, is a Left", async () => {
    const missing = await loadTrainingState(join(root, "nope"), Meta);
    expect(E.isLeft(missing) && missing.left.kind).toBe("io");
    expect(E.isLeft(missing) && isWiderError(missing.left) && missing.left.path).toBe(
      join(root, "nope"),
    );
    const model = buildClassifier();
    const s = initLoop(model, sgd());
    const st: TrainingState = branch(model, s);
    const dir = join(root, "meta");
    must(await saveTrainingState(dir, st, { epoch: "three" }));
    const before = tf.memory().numTensors;
    const bad = await loadTrainingState(dir, Meta);
    expect(E.isLeft(bad) && isWiderError(bad.left) && bad.left.kind).toBe("corrupt");
    expect(E.isLeft(bad) && bad.left).toMatchObject({ _tag: "TrainingError", path: dir });
    expect(E.isLeft(bad) && bad.left.message).toMatch(
      /metadata does not fit the codec \(meta\.epoch is "three"; expected number\); pass the codec/,
    );
    expect(tf.memory().numTensors).toBe(before); // the loaded tensors were freed
    await writeFile(join(dir, "manifest.json"), "{}");
    const broken = await loadTrainingState(dir, Meta);
    expect(E.isLeft(broken) && isWiderError(broken.left) && broken.left.kind).toBe("corrupt");
    disposeTrainingState(st);
    disposeOptState(s.opt);
    model.dispose();
  });
});

describe("kill and resume", () => {
  it("SIGKILL a training process after a checkpoint, resume from disk: bit-identical to an uninterrupted run", async () => {
    const dir = join(root, "killed");
    const script = fileURLToPath(new URL("./child/train.ts", import.meta.url));
    const cwd = fileURLToPath(new URL("..", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, dir], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const killedAfter = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        const saved = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
        const last = saved[saved.length - 1];
        if (last !== undefined && last >= 15 && child.exitCode === null) {
          child.kill("SIGKILL");
          resolve(last);
        }
      });
      child.on("exit", (code, signal) => {
        if (signal !== "SIGKILL")
          reject(new Error(`the child exited (${code}) before it was killed: ${out}`));
      });
    });
    await new Promise((r) => child.once("close", r));
    expect(child.signalCode).toBe("SIGKILL");
    expect(killedAfter).toBeLessThan(killRun.steps - 1);

    const optimizer = sgd({ momentum: 0.9, weightDecay: 5e-4 });
    const schedule = cosine({ from: killRun.lr, to: 0.001, steps: killRun.steps });
    const { out, step, meta } = await resumeFrom(dir, optimizer, killRun.steps, schedule);
    // The checkpoint on disk is a whole epoch's, at or after the one seen before the kill.
    expect(step % killRun.stepsPerEpoch).toBe(0);
    expect(step).toBeGreaterThanOrEqual(killedAfter + 1);
    expect(meta.epoch).toBe(step / killRun.stepsPerEpoch - 1);
    const ref = await uninterrupted(optimizer, killRun.steps, schedule);
    expectBitIdentical(stateTensors(out), stateTensors(ref));
    disposeTrainingState(out);
    disposeTrainingState(ref);
  });
});
