/**
 * A worker process for the tests: `node --import tsx test/pointWorker.ts <redis-url> <queue> <dir>
 * <backend>`; evaluates plan points with `planeSetup`, trains SWAP members (`swapTrainer`), runs `sleep` SWAP-free run jobs (a run
 * handler that writes its fingerprint and sleeps `config.ms`), and exits on SIGTERM.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import "@tensorflow/tfjs-backend-wasm";
import { startWorker } from "../src/index.js";
import { pointSetup } from "./planeSetup.js";
import { swapHandler } from "./swapTrainer.js";

const [url, queue, dir, backend] = process.argv.slice(2);
if (url === undefined || queue === undefined || dir === undefined || backend === undefined)
  throw new Error("usage: pointWorker.ts <redis-url> <queue> <dir> <backend>");
await tf.setBackend(backend);
const w = orThrow(
  await startWorker({
    redis: url,
    queue,
    dirs: { work: dir },
    lockDurationMs: 3000,
    stalledIntervalMs: 1000,
    handlers: {
      point: async (e) => pointSetup(e),
      swap: swapHandler,
      run: async (job, ctx) => {
        await mkdir(ctx.outDir, { recursive: true });
        await writeFile(join(ctx.outDir, `attempt-${ctx.attempt}-${process.pid}`), "");
        await new Promise((r) => setTimeout(r, Number(job.config.ms ?? 0)));
        return {
          seed: job.seed,
          value: Number(job.config.x ?? 0) * 10 + job.seed,
          pid: process.pid,
        };
      },
    },
  }),
);
process.stdout.write(`ready ${w.id}\n`);
process.on("SIGTERM", () => {
  w.close().then(() => process.exit(0));
});
