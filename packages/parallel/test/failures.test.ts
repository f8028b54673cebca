import * as tf from "@tensorflow/tfjs";
import { isWiderError, WiderFailure } from "@wider/errors";
import type { ModelSpec } from "@wider/models";
import { constant } from "@wider/schedules";
import { initLoop, sgd, softmaxCrossEntropy } from "@wider/training";
import { beforeAll, describe, expect, it } from "vitest";
import { parallelRunner } from "../src/index.js";
import { nodeTransport } from "../src/node.js";
import { batchesFor, build } from "./helpers.js";

const spec: ModelSpec = { kind: "mlp", hidden: [8], inputShape: [4, 4, 1], seed: 1 };

beforeAll(async () => {
  await tf.setBackend("cpu");
  await tf.ready();
});

const run = async (
  transport = nodeTransport(),
  shape: readonly number[] = [4, 4, 1],
  opts: { optimizer?: ReturnType<typeof sgd> } = {},
) => {
  const runner = await parallelRunner({
    transport,
    workers: 2,
    backend: "cpu",
    model: { spec },
    optimizer: { kind: "sgd" },
  });
  const model = build(spec);
  const optimizer = opts.optimizer ?? sgd();
  const before = tf.memory().numTensors;
  const go = () =>
    runner.runSteps({
      model,
      optimizer,
      loss: softmaxCrossEntropy(),
      schedule: constant(0.1),
      batches: batchesFor(shape, 8),
      state: initLoop(model, optimizer),
      to: 5,
    });
  return { runner, model, before, go };
};

/** The `[_tag, kind]` a promise rejects with; fails unless it is a WiderFailure. */
const rejection = async (p: Promise<unknown>): Promise<unknown[]> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WiderFailure);
    if (!isWiderError(e)) throw e;
    return [e._tag, e.kind];
  }
  throw new Error("expected a rejection");
};

describe("failures end the run with one clear message, no hang", () => {
  it("an exception in a worker (a batch the model cannot take)", { timeout: 30_000 }, async () => {
    const { runner, model, before, go } = await run(nodeTransport(), [5, 5, 1]);
    await expect(go()).rejects.toThrow(
      /@wider\/parallel: the run stopped at step 0: worker \d threw: .*Resume from your last checkpoint/s,
    );
    // The runner is closed: a second run is refused with the reason.
    await expect(go()).rejects.toThrow(/closed after a failure \(worker \d threw/);
    expect(await rejection(go())).toEqual(["ParallelError", "worker"]);
    expect(tf.memory().numTensors).toBe(before);
    await runner.close();
    model.dispose();
  });

  it("a worker that dies (process.exit in the thread) during a run", {
    timeout: 30_000,
  }, async () => {
    const transport = nodeTransport({ entry: new URL("./child/exitOnRun.ts", import.meta.url) });
    const { runner, model, go } = await run(transport);
    const stopped = go();
    await expect(stopped).rejects.toThrow(
      /the run stopped at step 0: worker 1 exited \(code 3\) while the run needed it/,
    );
    expect(await rejection(stopped)).toEqual(["ParallelError", "worker"]);
    await runner.close();
    model.dispose();
  });

  it("a worker that cannot start (bad spec) rejects parallelRunner itself", {
    timeout: 30_000,
  }, async () => {
    await expect(
      parallelRunner({
        transport: nodeTransport(),
        workers: 2,
        backend: "cpu",
        model: { spec: { kind: "mlp", hidden: [-1] } as unknown as ModelSpec },
        optimizer: { kind: "sgd" },
      }),
    ).rejects.toThrow(/a worker failed to start: worker \d threw: .*nothing was trained/s);
    // Programmer's mistakes in the options are thrown at once, of kind config.
    expect(
      await rejection(
        parallelRunner({
          transport: nodeTransport(),
          workers: 0,
          model: { spec },
          optimizer: { kind: "sgd" },
        }),
      ),
    ).toEqual(["ParallelError", "config"]);
  });

  it("an optimizer that differs from the replicas' is refused before any step", async () => {
    const { runner, model, go } = await run(nodeTransport(), [4, 4, 1], {
      optimizer: sgd({ momentum: 0.5 }),
    });
    await expect(go()).rejects.toThrow(/the replicas apply sgd/);
    expect(await rejection(go())).toEqual(["ParallelError", "config"]);
    await runner.close();
    model.dispose();
  });
});
