/**
 * Training speed of the web app against the Node app, same model (the MLP 784-512-256-10 of
 * `@wider/models`), same batch (64), same data (MNIST, 5,000 training images), same loop
 * (`@wider/training`'s `runSteps` with PyTorch-exact SGD, momentum 0.9):
 *
 * - headless Chromium (Debian's), the built `dist/` served by a small static server here with and
 *   without the COOP/COEP headers: wasm with threads (cross-origin isolated), wasm with one thread
 *   (`threads=off` on the isolated page), and wasm on a page that is not isolated (no
 *   SharedArrayBuffer, so no threads); samples/s is the median of the page's own reports
 *   (training steps only, evaluation excluded);
 * - Node: the same loop on `@wider/backend`'s wasm (one thread: see its README), timed over the
 *   same steps after a warm-up.
 *
 * Writes `bench/results.md` (atomically) and prints it. Run: `pnpm --filter @wider/web bench`.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { cpus, loadavg } from "node:os";
import { extname, join, normalize } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initWasmTraining } from "@wider/backend";
import {
  deriveSeed,
  gather,
  loadDataset,
  planBatches,
  shuffledIndices,
  toBatchTensors,
} from "@wider/data";
import { buildModel } from "@wider/models";
import { initLoop, runSteps, sgd, softmaxCrossEntropy } from "@wider/training";
import * as E from "fp-ts/lib/Either.js";
import { appDir, freePort, launch } from "../test/browser.js";

const TRAIN = 5000;
const BATCH = 64;
const STEPS = 156; // two epochs of 78 batches: the page's SGD track with epochs=2
const WARMUP = 20;

const types: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".gz": "application/gzip",
  ".map": "application/json",
};

/** A static server of dist/, with or without the cross-origin isolation headers. */
const serve = async (isolated: boolean): Promise<{ server: Server; url: string }> => {
  const root = join(appDir, "dist");
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(root, path.endsWith("/") ? `${path}index.html` : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, {
        "content-type": types[extname(file)] ?? "application/octet-stream",
        ...(isolated
          ? {
              "Cross-Origin-Opener-Policy": "same-origin",
              "Cross-Origin-Embedder-Policy": "require-corp",
            }
          : {}),
      });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${port}/` };
};

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? Number.NaN
    : (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2;
};

const browserRun = async (isolated: boolean, threads: "auto" | "all" | "off") => {
  const { server, url } = await serve(isolated);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const q = new URLSearchParams({
      trainSubset: String(TRAIN),
      batchSize: String(BATCH),
      testSubset: "500",
      epochs: "2",
      swaStart: "1",
      backend: "wasm",
      threads,
      geometrySubset: "100",
      segmentPoints: "2",
      planeGrid: "2",
    });
    await page.goto(`${url}?${q}`);
    await page.waitForFunction(() => window.wider !== undefined);
    await page.click("#train");
    await page.waitForFunction(() => window.wider.done || window.wider.error !== null, undefined, {
      timeout: 600_000,
    });
    const s = await page.evaluate(() => ({ ...window.wider }));
    if (s.error !== null) throw new Error(s.error);
    // The first report includes the backend's warm-up.
    return { samplesPerSec: median(s.speeds.slice(1)), threads: s.threads, isolated: s.isolated };
  } finally {
    await browser.close();
    server.close();
  }
};

const nodeRun = async (): Promise<number> => {
  await initWasmTraining();
  const d = await loadDataset("mnist");
  if (E.isLeft(d)) throw new Error(d.left.message);
  const train = gather(d.right.train, shuffledIndices(d.right.train.count, 1).subarray(0, TRAIN));
  const m = buildModel({ kind: "mlp", inputShape: [28, 28, 1], classes: 10, seed: 0 });
  if (E.isLeft(m)) throw new Error(m.left.message);
  const model = m.right;
  const spe = Math.floor(TRAIN / BATCH);
  const optimizer = sgd({ momentum: 0.9, weightDecay: 5e-4 });
  let t0 = 0;
  const r = await runSteps({
    model,
    optimizer,
    loss: softmaxCrossEntropy(),
    schedule: () => 0.05,
    batches: (step) => {
      const plan = planBatches({
        count: TRAIN,
        batchSize: BATCH,
        seed: deriveSeed(1, Math.floor(step / spe)),
        dropRemainder: true,
      });
      const b = toBatchTensors(train, plan[step % spe]!, {
        normalize: d.right.stats,
        oneHot: false,
      });
      return { x: b.xs, y: b.ys };
    },
    state: initLoop(model, optimizer),
    to: STEPS,
    hooks: [
      {
        onStep: ({ step }) => {
          if (step === WARMUP - 1) t0 = performance.now();
        },
      },
    ],
  });
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose(Object.values(r.state.opt.slots).flatMap((w) => Object.values(w)));
  model.dispose();
  return ((STEPS - WARMUP) * BATCH) / seconds;
};

const main = async (): Promise<void> => {
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(", ");
  const rounds = Number(process.env.BENCH_ROUNDS ?? "3");
  const configs: Array<{
    what: string;
    run: () => Promise<{ threads: number | string; sps: number }>;
  }> = [
    {
      what: "Chromium, wasm, cross-origin isolated, `threads=all`",
      run: async () => {
        const r = await browserRun(true, "all");
        return { threads: r.threads, sps: r.samplesPerSec };
      },
    },
    {
      what: "Chromium, wasm, cross-origin isolated, `threads=auto` (tfjs default: half the cores)",
      run: async () => {
        const r = await browserRun(true, "auto");
        return { threads: r.threads, sps: r.samplesPerSec };
      },
    },
    {
      what: "Chromium, wasm, cross-origin isolated, `threads=off`",
      run: async () => {
        const r = await browserRun(true, "off");
        return { threads: r.threads, sps: r.samplesPerSec };
      },
    },
    {
      what: "Chromium, wasm, not cross-origin isolated (no SharedArrayBuffer)",
      run: async () => {
        const r = await browserRun(false, "all");
        if (r.isolated) throw new Error("the page without COOP/COEP was isolated");
        return { threads: r.threads, sps: r.samplesPerSec };
      },
    },
    {
      what: "Node (the reference app's loop), wasm",
      run: async () => ({ threads: 1, sps: await nodeRun() }),
    },
  ];
  // Rounds interleave the configurations, so a change in the machine's load hits them all.
  const results = configs.map(() => ({ threads: "" as number | string, sps: [] as number[] }));
  for (let r = 0; r < rounds; r++)
    for (const [i, c] of configs.entries()) {
      const x = await c.run();
      results[i]!.threads = x.threads;
      results[i]!.sps.push(x.sps);
    }
  const rows = configs.map((c, i) => {
    const { threads, sps } = results[i]!;
    return `| ${c.what} | ${threads} | ${median(sps).toFixed(0)} | ${Math.min(...sps).toFixed(0)}–${Math.max(...sps).toFixed(0)} |`;
  });
  const loadEnd = loadavg()
    .map((x) => x.toFixed(1))
    .join(", ");
  const text = [
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average (1, 5, 15 min) ${load} at the start and ${loadEnd} at the end; ${rounds} rounds.`,
    `MLP 784-512-256-10, batch ${BATCH}, ${TRAIN} MNIST training images, SGD with momentum; samples/s of training steps only.`,
    "",
    "| where | wasm threads | samples/s (median) | range |",
    "| --- | ---: | ---: | ---: |",
    ...rows,
    "",
  ].join("\n");
  const out = join(appDir, "bench", "results.md");
  mkdirSync(join(appDir, "bench"), { recursive: true });
  writeFileSync(`${out}.tmp`, text);
  renameSync(`${out}.tmp`, out);
  process.stdout.write(text);
};

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
