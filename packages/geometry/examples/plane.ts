/**
 * Runnable example: trains a tiny classifier on synthetic blobs, averages three late SGD iterates
 * (SWA), then evaluates rays, the SWA–SGD segment and the plane through the three iterates, and
 * writes the plots to `out/` and the width summaries to stdout.
 *
 *   pnpm example (in packages/geometry)
 */

import { mkdir, writeFile } from "node:fs/promises";
import * as tf from "@tensorflow/tfjs";
import { orThrow } from "@wider/errors";
import { clone, disposeWeights, fromModel, lerp, type Weights } from "@wider/weights";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  linspace,
  type PlanResults,
  planeContourSvg,
  planeThrough,
  randomDirection,
  rayFrom,
  rayPlotSvg,
  segment,
  segmentPlotSvg,
  summarizeWidths,
  widthsOfRays,
} from "../src/index.js";

/** Three Gaussian blobs in 2-D, `n` points each, labels 0..2. */
const blobs = (n: number, seed: number) =>
  tf.tidy(() => {
    const centers = tf.tensor2d([
      [0, 1.2],
      [1.1, -0.7],
      [-1.1, -0.7],
    ]);
    const labels = tf.tensor1d(
      Array.from({ length: 3 * n }, (_, i) => i % 3),
      "int32",
    );
    const x = tf.add(
      tf.gather(centers, labels),
      tf.randomNormal([3 * n, 2], 0, 0.75, "float32", seed),
    );
    return { x, y: labels };
  });

const main = async () => {
  await tf.setBackend("cpu");
  const train = blobs(200, 1);
  const test = blobs(200, 2);
  const model = tf.sequential();
  // Seeded initialisers and no shuffling make the run deterministic, so that a second run resumes
  // from the result files in out/ (a different plan would be refused).
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  model.add(
    tf.layers.dense({
      name: "h1",
      units: 32,
      activation: "relu",
      inputShape: [2],
      kernelInitializer: init(1),
    }),
  );
  model.add(
    tf.layers.dense({ name: "h2", units: 32, activation: "relu", kernelInitializer: init(2) }),
  );
  model.add(
    tf.layers.dense({ name: "out", units: 3, activation: "softmax", kernelInitializer: init(3) }),
  );
  model.compile({ optimizer: tf.train.sgd(0.1), loss: "sparseCategoricalCrossentropy" });
  const yTrain = tf.cast(train.y, "float32");
  await model.fit(train.x, yTrain, { epochs: 20, batchSize: 16, verbose: 0, shuffle: false });
  // Three late SGD iterates, and their average (SWA).
  const iterates: Weights[] = [];
  for (let k = 0; k < 3; k++) {
    await model.fit(train.x, yTrain, { epochs: 3, batchSize: 16, verbose: 0, shuffle: false });
    iterates.push(fromModel(model));
  }
  const [w1, w2, w3] = iterates as [Weights, Weights, Weights];
  const mid = lerp(w1, w2, 0.5);
  const swa = lerp(mid, w3, 1 / 3);
  disposeWeights(mid);
  const sgd = clone(w3);

  const evaluate = evaluateClassifier({ train, test }, { batchSize: 600 });
  const run = async (
    plan: Parameters<typeof evaluatePlan>[0],
    name: string,
  ): Promise<PlanResults> => {
    const r = orThrow(
      await evaluatePlan(plan, {
        model,
        evaluate,
        resume: { file: `out/${name}.json` },
        onProgress: (p) => {
          if (p.done === p.total) console.log(`${name}: ${p.total} points in ${p.elapsedMs} ms`);
        },
      }),
    );
    disposePlan(plan);
    return r;
  };

  await mkdir("out", { recursive: true });
  const distances = linspace(-20, 20, 41);
  const groups = [];
  for (const [label, center] of [
    ["SWA", swa],
    ["SGD", sgd],
  ] as const) {
    const rays: PlanResults[] = [];
    for (let seed = 0; seed < 5; seed++) {
      const d = randomDirection(center, label === "SWA" ? seed : 100 + seed);
      rays.push(await run(orThrow(rayFrom(center, d, distances)), `ray-${label}-${seed}`));
      disposeWeights(d);
    }
    const widths = orThrow(widthsOfRays(rays, { metric: "trainLoss", delta: 0.1 }));
    console.log(`${label} width (train loss + 0.1):`, summarizeWidths(widths));
    groups.push({ label, rays });
  }
  await writeFile(
    "out/rays-test-error.svg",
    await rayPlotSvg(
      groups,
      { metric: "testError", percent: true, title: "test error (%)" },
      { title: "Random rays" },
    ),
  );
  await writeFile(
    "out/rays-train-loss.svg",
    await rayPlotSvg(groups, { metric: "trainLoss", logY: true }, { title: "Random rays" }),
  );

  const seg = await run(orThrow(segment(swa, sgd, linspace(-1, 2, 31))), "segment");
  await writeFile(
    "out/segment.svg",
    await segmentPlotSvg(
      seg,
      [
        { metric: "testError", percent: true, title: "test error (%)" },
        { metric: "trainLoss", title: "train loss" },
      ],
      { endLabels: ["SWA", "SGD"], title: "w(t) = t w_sgd + (1 - t) w_swa" },
    ),
  );

  const plane = await run(orThrow(planeThrough(w1, w2, w3, { grid: 21, margin: 0.2 })), "plane");
  const labels = ["W1", "W2", "W3"] as const;
  await writeFile(
    "out/plane-train-loss.svg",
    await planeContourSvg(plane, { metric: "trainLoss", cap: 5, labels, title: "train loss" }),
  );
  await writeFile(
    "out/plane-test-error.svg",
    await planeContourSvg(plane, {
      metric: "testError",
      percent: true,
      cap: 40,
      labels,
      title: "test error (%)",
    }),
  );
  console.log("wrote out/*.svg");
  for (const w of [w1, w2, w3, swa, sgd]) disposeWeights(w);
  tf.dispose([train.x, train.y, test.x, test.y, yTrain]);
  model.dispose();
};

await main();
