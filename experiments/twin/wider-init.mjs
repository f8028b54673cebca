#!/usr/bin/env node
// Writes the app's initial weights for a model and seed (apps/reference's buildAppModel, the
// weights every Wider run of that seed starts from) as <out>/manifest.json + <out>/init.bin
// (float32 little-endian, the layout of a wider-weights checkpoint, group "init"), so that
// `twin.py --init-from <out>` trains the PyTorch twin from exactly these weights.
// Usage (repository root, after `pnpm build`):
//   node experiments/twin/wider-init.mjs --model mlp --seed 0 --out runs/init-mlp-0
// `--perturb EPS` multiplies every weight by (1 + EPS * u), u uniform in [-1, 1] from a fixed
// generator: a float-rounding-sized change of the same start (EPS 1e-7), to measure how far
// rounding alone carries a run (the control for a comparison of the app and the twin).
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const arg = (name) => {
  const i = process.argv.indexOf(name);
  const v = i < 0 ? undefined : process.argv[i + 1];
  if (v === undefined) {
    process.stderr.write(
      `wider-init: ${name} is missing; usage: --model mlp|cnn --seed N --out DIR\n`,
    );
    process.exit(2);
  }
  return v;
};
const model = arg("--model");
const seed = Number(arg("--seed"));
const out = arg("--out");
const perturb = process.argv.includes("--perturb") ? Number(arg("--perturb")) : 0;
if (!Number.isFinite(perturb) || perturb < 0 || perturb > 1e-2) {
  process.stderr.write("wider-init: --perturb must be a number in [0, 0.01], e.g. 1e-7\n");
  process.exit(2);
}
let state = 0x9e3779b9; // mulberry32: a fixed, seed-independent stream for the perturbation
const uniform = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
if (!["mlp", "cnn"].includes(model) || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write("wider-init: --model must be mlp or cnn and --seed an integer >= 0\n");
  process.exit(2);
}
const app = resolve("apps/reference");
const require = createRequire(join(app, "package.json"));
const tf = await import(pathToFileURL(require.resolve("@tensorflow/tfjs")).href);
await tf.setBackend("cpu");
const { buildAppModel } = await import(pathToFileURL(join(app, "dist/models.js")).href);
const m = buildAppModel(model, { imageShape: [28, 28, 1], classes: 10 }, seed);
const tensors = [];
const parts = [];
let offset = 0;
for (const w of m.trainableWeights) {
  const values = Float32Array.from(await w.read().data());
  if (perturb > 0)
    for (let i = 0; i < values.length; i++) values[i] *= 1 + perturb * (2 * uniform() - 1);
  const data = Buffer.from(values.buffer);
  tensors.push({
    group: "init",
    name: w.originalName,
    shape: w.shape,
    dtype: "float32",
    offset,
    bytes: data.length,
  });
  parts.push(data);
  offset += data.length;
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "init.bin.tmp"), Buffer.concat(parts));
renameSync(join(out, "init.bin.tmp"), join(out, "init.bin"));
const manifest = { format: "wider-init", model, seed, perturb, blob: "init.bin", tensors };
writeFileSync(join(out, "manifest.json.tmp"), `${JSON.stringify(manifest, null, 1)}\n`);
renameSync(join(out, "manifest.json.tmp"), join(out, "manifest.json"));
process.stdout.write(
  `${model} seed ${seed}: ${tensors.length} tensors, ${offset} bytes -> ${out}\n`,
);
