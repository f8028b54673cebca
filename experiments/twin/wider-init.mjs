#!/usr/bin/env node
// Writes the app's initial weights for a model and seed (apps/reference's buildAppModel, the
// weights every Wider run of that seed starts from) as <out>/manifest.json + <out>/init.bin
// (float32 little-endian, the layout of a wider-weights checkpoint, group "init"), so that
// `twin.py --init-from <out>` trains the PyTorch twin from exactly these weights.
// Usage (repository root, after `pnpm build`):
//   node experiments/twin/wider-init.mjs --model mlp --seed 0 --out runs/init-mlp-0
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const arg = (name) => {
  const i = process.argv.indexOf(name);
  const v = i < 0 ? undefined : process.argv[i + 1];
  if (v === undefined) {
    process.stderr.write(`wider-init: ${name} is missing; usage: --model mlp|cnn --seed N --out DIR\n`);
    process.exit(2);
  }
  return v;
};
const model = arg("--model");
const seed = Number(arg("--seed"));
const out = arg("--out");
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
  const data = Buffer.from((await w.read().data()).buffer);
  tensors.push({ group: "init", name: w.originalName, shape: w.shape, dtype: "float32", offset, bytes: data.length });
  parts.push(data);
  offset += data.length;
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "init.bin.tmp"), Buffer.concat(parts));
renameSync(join(out, "init.bin.tmp"), join(out, "init.bin"));
const manifest = { format: "wider-init", model, seed, blob: "init.bin", tensors };
writeFileSync(join(out, "manifest.json.tmp"), `${JSON.stringify(manifest, null, 1)}\n`);
renameSync(join(out, "manifest.json.tmp"), join(out, "manifest.json"));
process.stdout.write(`${model} seed ${seed}: ${tensors.length} tensors, ${offset} bytes -> ${out}\n`);
