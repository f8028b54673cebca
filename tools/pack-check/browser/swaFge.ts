// Runs in headless Chromium from an esbuild browser bundle: a tiny SWA + FGE training on the cpu
// backend. Reports the averaged weights and a hand mean of the same weights to the test.
import * as tf from "@tensorflow/tfjs";
import { averagingCallback, swa, when } from "@wider/averaging";
import { collectAt, disposeSnapshots, meanOfSnapshots, snapshotCallback } from "@wider/ensembling";
import { fromModel } from "@wider/weights";
import * as E from "fp-ts/lib/Either.js";

interface Report {
  readonly backend: string;
  readonly swaN: number;
  readonly swaMean: Record<string, number[]>;
  readonly handSwaMean: Record<string, number[]>;
  readonly fgeCount: number;
  readonly fgeMean: Record<string, number[]>;
  readonly handFgeMean: Record<string, number[]>;
  readonly leaked: number;
}

const read = (w: Readonly<Record<string, tf.Tensor>>): Record<string, number[]> =>
  Object.fromEntries(Object.entries(w).map(([k, t]) => [k, Array.from(t.dataSync())]));

const mean = (sets: readonly Record<string, number[]>[]): Record<string, number[]> => {
  const first = sets[0];
  if (first === undefined) throw new Error("no weight sets to average");
  return Object.fromEntries(
    Object.keys(first).map((k) => [
      k,
      first[k]!.map((_, i) => sets.reduce((s, w) => s + w[k]![i]!, 0) / sets.length),
    ]),
  );
};

const run = async (): Promise<Report> => {
  await tf.setBackend("cpu");
  const start = tf.memory().numTensors;
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 4, inputShape: [3], activation: "tanh", name: "h" }),
      tf.layers.dense({ units: 2, activation: "softmax", name: "out" }),
    ],
  });
  const optimizer = tf.train.sgd(0.1);
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const x = tf.randomNormal([32, 3], 0, 1, "float32", 7);
  const y = tf.tidy(() => tf.oneHot(tf.cast(tf.greater(tf.sum(x, 1), 0), "int32"), 2));

  const avg = averagingCallback({ averager: swa(), policy: when({ start: 4 }) });
  const collector = collectAt((step) => step % 4 === 3, { maxCount: 10, store: "memory" });
  const fge = snapshotCallback({ collector });
  // Every step's weights, read after the step, as the averager and the collector see them.
  const seen: Record<string, number[]>[] = [];
  const recorder = new (class extends tf.Callback {
    override async onBatchEnd(): Promise<void> {
      const w = fromModel(model, { include: "all" });
      seen.push(read(w));
      tf.dispose(Object.values(w));
    }
  })();
  await model.fit(x, y, { epochs: 3, batchSize: 8, callbacks: [avg, fge, recorder], verbose: 0 });

  const fgeMean = await meanOfSnapshots(fge.state.snapshots);
  if (E.isLeft(fgeMean)) throw new Error(fgeMean.left.message);
  const report: Report = {
    backend: tf.getBackend(),
    swaN: avg.state.n,
    swaMean: read(avg.state.mean!),
    handSwaMean: mean(seen.slice(4)),
    fgeCount: fge.state.snapshots.length,
    fgeMean: read(fgeMean.right),
    handFgeMean: mean(seen.filter((_, step) => step % 4 === 3)),
    leaked: 0,
  };
  tf.dispose(Object.values(fgeMean.right));
  avg.dispose();
  await disposeSnapshots(fge.state);
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return { ...report, leaked: tf.memory().numTensors - start };
};

declare global {
  interface Window {
    widerResult?: Report | { readonly error: string };
  }
}

run().then(
  (r) => {
    window.widerResult = r;
  },
  (e: unknown) => {
    window.widerResult = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) };
  },
);
