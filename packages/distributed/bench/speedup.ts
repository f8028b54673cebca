/**
 * Wall time on 1 worker process vs 2: a 4-seed sweep of the reference app (`wider sweep` +
 * `wider worker`, built first: `pnpm turbo run build --filter=@wider/reference...`) and a 7 x 7
 * plane (`publishPlan` + worker processes of `test/pointWorker.ts`, cpu backend, a 64-256-3
 * BatchNorm network re-estimated on 4,096 points at each grid point). Workers are started and
 * ready before the clock starts; the clock stops when the last result is stored. Each setting
 * runs twice, alternating (1, 2, 1, 2 workers), to show the noise of a shared machine. Prints a
 * Markdown table with the machine's load average. Run: `pnpm bench speedup` (in packages/distributed).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { disposePlan, planeThrough } from "@wider/geometry";
import { disposeWeights, fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";
import { collectPlan, connect, publishPlan, readResults, readSweep } from "../src/index.js";
import { startRedis } from "../src/testing.js";
import { bnModel } from "../test/planeSetup.js";
import { spawnWorker, waitFor } from "../test/workers.js";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "..", "..", "..", "apps", "reference", "dist", "bin.js");
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const redis = await startRedis();
const client = orThrow(connect(redis.url));
const rows: string[] = [];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");

const appWorker = (queue: string, dir: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [bin, "worker", "--redis", redis.url, "--queue", queue, "--dir", dir],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    c.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("taking jobs")) resolve(c);
    });
    c.once("exit", (code) => reject(new Error(`worker exited ${code}`)));
  });

const sweepSpec = {
  base: {
    // Long enough (about 20-40 s a job here) that a job dominates the workers' start-up.
    trainSubset: Number(process.env.WIDER_BENCH_TRAIN ?? 12000),
    testSubset: 1000,
    batchSize: 64,
    epochs: Number(process.env.WIDER_BENCH_EPOCHS ?? 6),
    swaStart: Number(process.env.WIDER_BENCH_EPOCHS ?? 6) - 2,
    rays: 0,
    segmentPoints: 0,
    planeGrid: 0,
    geometrySubset: 200,
    backend: "wasm",
  },
  seeds: [0, 1, 2, 3],
};

for (const [rep, n] of [1, 2, 1, 2].entries()) {
  const queue = `sweep-${rep}-${n}`;
  const dir = tmp("wider-bench-");
  const spec = join(dir, "sweep.json");
  writeFileSync(spec, JSON.stringify({ ...sweepSpec, name: queue }));
  const workers = await Promise.all(
    Array.from({ length: n }, () => appWorker(queue, join(dir, "work"))),
  );
  const before = load();
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [bin, "sweep", "--spec", spec, "--redis", redis.url, "--queue", queue],
      { stdio: "ignore" },
    );
    c.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`sweep exited ${code}`))));
  });
  const record = await waitFor(
    async () => {
      const r = await readSweep(client, queue, queue);
      return E.isRight(r) ? r.right : undefined;
    },
    10_000,
    "sweep",
  );
  await waitFor(
    async () =>
      orThrow(
        await readResults(
          client,
          queue,
          record.jobs.map((j) => j.fingerprint),
        ),
      ).size === 4
        ? true
        : undefined,
    900_000,
    "4 runs",
  );
  const seconds = (Date.now() - t0) / 1000;
  const done = orThrow(
    await readResults(
      client,
      queue,
      record.jobs.map((j) => j.fingerprint),
    ),
  );
  const mean = [...done.values()].reduce((a, r) => a + r.seconds, 0) / done.size;
  rows.push(
    `| 4-seed sweep (MLP, ${sweepSpec.base.trainSubset} MNIST images, ${sweepSpec.base.epochs} epochs; mean job ${mean.toFixed(1)} s) | ${n} | ${seconds.toFixed(1)} | ${before} → ${load()} |`,
  );
  for (const w of workers) w.kill("SIGTERM");
  process.stderr.write(`${rows.at(-1)}\n`);
}

// WIDER_BENCH_ONLY=sweep measures the sweep alone.
const planeToo = process.env.WIDER_BENCH_ONLY !== "sweep";
await tf.setBackend("cpu");
const evaluator = {
  model: "bn-dense",
  modelSeed: 11,
  dataSeed: 5,
  n: 4096,
  inputs: 64,
  units: 256,
  batch: 256,
};
const anchors = [1, 2, 3].map((s) => {
  const m = bnModel(s, 256, 64);
  const w = fromModel(m);
  m.dispose();
  return w;
});
const plan = planeThrough(anchors[0]!, anchors[1]!, anchors[2]!, { grid: 7 });
if (E.isLeft(plan)) throw new Error(plan.left.message);
for (const [rep, n] of (planeToo ? [1, 2, 1, 2] : []).entries()) {
  const queue = `plane-${rep}-${n}`;
  const dir = tmp("wider-bench-");
  const ws = Array.from({ length: n }, () => spawnWorker(redis.url, queue, dir, "cpu"));
  await Promise.all(ws.map((w) => w.ready));
  const before = load();
  const t0 = Date.now();
  const { evaluationId } = orThrow(
    await publishPlan({
      redis: redis.url,
      queue,
      client,
      sharedDir: dir,
      plan: plan.right,
      evaluator,
    }),
  );
  await waitFor(
    async () =>
      orThrow(await collectPlan(client, queue, evaluationId)).complete ? true : undefined,
    900_000,
    "49 points",
  );
  const seconds = (Date.now() - t0) / 1000;
  rows.push(
    `| 7 x 7 plane (64-256-3 BN net, BN re-estimated on 4,096 points) | ${n} | ${seconds.toFixed(1)} | ${before} → ${load()} |`,
  );
  await Promise.all(ws.map((w) => w.stop()));
  process.stderr.write(`${rows.at(-1)}\n`);
}
disposePlan(plan.right);
for (const w of anchors) disposeWeights(w);
client.disconnect();
await redis.stop();
process.stdout.write(
  [
    `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ${new Date().toISOString()}`,
    "",
    "| job | worker processes | wall s | load average 1/5/15 min (before → after) |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n"),
);
