/**
 * SWAP's phases on a real redis-server: phase 1 trained here, phase 2 as 3 member jobs (each from
 * the phase-1 weights, its own data order, small batches) run by a worker, phase 3 averaged by
 * `averageSwap`; the average is checked against an independent float64 mean of the members'
 * saved weights, and no tensor leaks.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposeWeights, fromModel, loadWeights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  averageSwap,
  connect,
  readResults,
  startWorker,
  submitSwap,
  swapMemberDir,
} from "../src/index.js";
import { haveRedis, startRedis, type TestRedis } from "../src/testing.js";
import { bnModel } from "./planeSetup.js";
import { swapHandler, task, train } from "./swapTrainer.js";
import { waitFor } from "./workers.js";

describe.skipIf(!haveRedis)("SWAP", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    await tf.setBackend("cpu");
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it("phase 2 members from the phase-1 weights, phase 3 average equal to the members' mean", async () => {
    const queue = "swap";
    const dir = mkdtempSync(join(tmpdir(), "wider-swap-"));
    const client = orThrow(connect(redis.url));
    const worker = orThrow(
      await startWorker({
        redis: redis.url,
        queue,
        dirs: { work: dir },
        handlers: { swap: swapHandler },
      }),
    );
    const model = bnModel(1);
    const data = task(256, 3);
    await train(model, data, { epochs: 2, batch: 64, lr: 0.1, seed: 0 });
    const start = fromModel(model, { include: "all" });
    const before = tf.memory().numTensors;
    const { jobs } = orThrow(
      await submitSwap({
        redis: redis.url,
        queue,
        client,
        sharedDir: dir,
        swapId: "demo",
        start,
        members: 3,
        task: (m) => ({ epochs: 1, batch: 16, lr: 0.05, dataSeed: 100 + m, n: 256, taskSeed: 3 }),
      }),
    );
    const early = await averageSwap(client, queue, dir, "demo");
    expect(E.isLeft(early) && early.left).toMatchObject({
      _tag: "DistributedError",
      kind: "io",
      message: expect.stringMatching(/SWAP demo: \d of 3 members have not finished; wait for them/),
    });
    await waitFor(
      async () =>
        orThrow(
          await readResults(
            client,
            queue,
            jobs.map((j) => j.fingerprint),
          ),
        ).size === 3
          ? true
          : undefined,
      60_000,
      "3 members",
    );
    const { mean } = orThrow(await averageSwap(client, queue, dir, "demo"));
    // A run never submitted is a Left; bad options written in code throw.
    const unknown = await averageSwap(client, queue, dir, "never");
    expect(E.isLeft(unknown) && unknown.left).toMatchObject({
      kind: "io",
      message: expect.stringMatching(/no SWAP run never in queue swap; submit it first/),
    });
    expect(() =>
      submitSwap({
        redis: redis.url,
        queue,
        client,
        sharedDir: dir,
        swapId: "../x",
        start,
        members: 2,
        task: () => ({}),
      }),
    ).toThrow(/swapId "\.\.\/x"/);
    expect(() =>
      submitSwap({
        redis: redis.url,
        queue,
        client,
        sharedDir: dir,
        swapId: "ok",
        start,
        members: 0,
        task: () => ({}),
      }),
    ).toThrow(/members: 0 is not a positive integer/);
    // Oracle: float64 mean of the three saved member weight sets.
    const members = [];
    for (let m = 0; m < 3; m++) {
      const l = await loadWeights(join(dir, swapMemberDir("demo", m)));
      if (E.isLeft(l)) throw new Error(l.left.message);
      members.push(l.right.weights);
    }
    let worst = 0;
    for (const k of Object.keys(start)) {
      const got = mean[k]?.dataSync() ?? new Float32Array(0);
      const vs = members.map((w) => w[k]?.dataSync() ?? new Float32Array(0));
      expect(got.length).toBe(vs[0]?.length);
      for (let i = 0; i < got.length; i++) {
        const ref = ((vs[0]?.[i] ?? 0) + (vs[1]?.[i] ?? 0) + (vs[2]?.[i] ?? 0)) / 3;
        worst = Math.max(worst, Math.abs((got[i] ?? 0) - ref) / Math.max(Math.abs(ref), 1e-3));
      }
    }
    expect(worst).toBeLessThan(1e-6); // float32 running mean vs float64 mean
    // The members went different ways (their data orders differ) and moved from the start.
    const a = members[0]?.["d/kernel"]?.dataSync() ?? new Float32Array(0);
    const b = members[1]?.["d/kernel"]?.dataSync() ?? new Float32Array(0);
    const s = start["d/kernel"]?.dataSync() ?? new Float32Array(0);
    expect(a.some((v, i) => v !== b[i])).toBe(true);
    expect(a.some((v, i) => v !== s[i])).toBe(true);
    for (const w of members) disposeWeights(w);
    disposeWeights(mean);
    expect(tf.memory().numTensors).toBe(before);
    disposeWeights(start);
    tf.dispose([data.x, data.y]);
    model.dispose();
    await worker.close();
    client.disconnect();
  });
});
