/**
 * SWAP against SGD and SWA at equal total epochs per model, on the seeded 3-class task of the
 * tests (2,048 training and 2,048 test points, a 6-8-3 BatchNorm network, cpu backend):
 * - phase 1 (all three): 4 epochs of SGD, batch 64, rate 0.1, from the same initial weights;
 * - SGD: 4 more epochs, batch 64, rate 0.1;
 * - SWA: 4 more epochs, batch 64, rate 0.05, averaging at the end of each epoch;
 * - SWAP: W = 4 members through Redis (2 worker processes), each 4 more epochs from the phase-1
 *   weights with its own data order, batch 16, rate 0.05; their average.
 * SWA and SWAP have their BatchNorm statistics re-estimated on the training set. Prints a Markdown
 * table (test error and NLL over 3 seeds of the initial weights). Run:
 * `pnpm bench swap` (in packages/distributed).
 */

import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { disposeState, swa, updateBatchNorm } from "@wider/averaging";
import { orThrow } from "@wider/errors";
import { evaluateClassifier } from "@wider/geometry";
import { assignToModel, disposeWeights, fromModel, type Weights } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { averageSwap, connect, readResults, submitSwap } from "../src/index.js";
import { startRedis } from "../src/testing.js";
import { bnModel } from "../test/planeSetup.js";
import { task, train } from "../test/swapTrainer.js";
import { spawnWorker, waitFor } from "../test/workers.js";

await tf.setBackend("cpu");
const redis = await startRedis();
const client = orThrow(connect(redis.url));
const dir = mkdtempSync(join(tmpdir(), "wider-swap-bench-"));
const workers = [
  spawnWorker(redis.url, "swap", dir, "cpu"),
  spawnWorker(redis.url, "swap", dir, "cpu"),
];
await Promise.all(workers.map((w) => w.ready));
const trainSet = task(2048, 3);
const testSet = task(2048, 99);
const evaluate = evaluateClassifier({ test: testSet });
const bnBatches = Array.from({ length: 8 }, (_, i) => tf.slice(trainSet.x, i * 256, 256));
type Row = { testError: number; testLoss: number; seconds: number };
const rows: Record<string, Row[]> = { sgd: [], swa: [], swap: [] };

const evalWeights = async (model: tf.LayersModel, w: Weights, reestimate: boolean) => {
  const r = assignToModel(model, w);
  if (E.isLeft(r)) throw new Error(r.left.message);
  if (reestimate) await updateBatchNorm(model, bnBatches);
  const m = await evaluate(model);
  return { testError: m.testError ?? Number.NaN, testLoss: m.testLoss ?? Number.NaN };
};

for (const seed of [1, 2, 3]) {
  const model = bnModel(seed);
  let t0 = Date.now();
  await train(model, trainSet, { epochs: 4, batch: 64, lr: 0.1, seed: 0 });
  const phase1 = fromModel(model, { include: "all" });
  const phase1Seconds = (Date.now() - t0) / 1000;

  t0 = Date.now();
  await train(model, trainSet, { epochs: 4, batch: 64, lr: 0.1, seed: 1 });
  const sgd = fromModel(model, { include: "all" });
  rows.sgd?.push({
    ...(await evalWeights(model, sgd, false)),
    seconds: phase1Seconds + (Date.now() - t0) / 1000,
  });

  assignToModel(model, phase1);
  t0 = Date.now();
  const averager = swa();
  let state = averager.init();
  await train(model, trainSet, {
    epochs: 4,
    batch: 64,
    lr: 0.05,
    seed: 2,
    onEpoch: () => {
      const w = fromModel(model, { include: "all" });
      state = averager.update(state, w);
      disposeWeights(w);
    },
  });
  if (state.mean === null) throw new Error("no SWA average");
  rows.swa?.push({
    ...(await evalWeights(model, state.mean, true)),
    seconds: phase1Seconds + (Date.now() - t0) / 1000,
  });
  disposeState(state);

  t0 = Date.now();
  const swapId = `seed-${seed}`;
  const { jobs } = orThrow(
    await submitSwap({
      redis: redis.url,
      queue: "swap",
      client,
      sharedDir: dir,
      swapId,
      start: phase1,
      members: 4,
      task: (m) => ({
        epochs: 4,
        batch: 16,
        lr: 0.05,
        dataSeed: 10 * seed + m + 3,
        n: 2048,
        taskSeed: 3,
      }),
    }),
  );
  await waitFor(
    async () =>
      orThrow(
        await readResults(
          client,
          "swap",
          jobs.map((j) => j.fingerprint),
        ),
      ).size === 4
        ? true
        : undefined,
    600_000,
    "SWAP members",
  );
  const { mean } = orThrow(await averageSwap(client, "swap", dir, swapId));
  rows.swap?.push({
    ...(await evalWeights(model, mean, true)),
    seconds: phase1Seconds + (Date.now() - t0) / 1000,
  });
  disposeWeights(mean);
  disposeWeights(phase1);
  disposeWeights(sgd);
  model.dispose();
}
await Promise.all(workers.map((w) => w.stop()));
client.disconnect();
await redis.stop();

const ms = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(xs.length - 1, 1));
  return `${m.toFixed(4)} ± ${s.toFixed(4)}`;
};
process.stdout.write(
  [
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" / ")}, ${new Date().toISOString()}`,
    "",
    "| method (8 epochs per model) | test error | test NLL | wall s |",
    "|---|---|---|---|",
    ...Object.entries(rows).map(
      ([k, r]) =>
        `| ${k} | ${ms(r.map((x) => x.testError))} | ${ms(r.map((x) => x.testLoss))} | ${ms(r.map((x) => x.seconds))} |`,
    ),
    "",
  ].join("\n"),
);
