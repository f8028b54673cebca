/**
 * `Conv2DBackpropInput` on wasm, the direct SIMD module (src/convInputGrad.ts) against the XNNPACK
 * composition (`xnnpackInputGrad` in src/conv2dGrad.ts), on the bench CNN's call (conv2's input
 * gradient: dy [128,11,11,64], filter 3x3x32x64, x [128,13,13,32], valid, stride 1) and other
 * geometries: channel counts, `same` padding, stride 2, 1x1 and 5x5 filters, larger images, batch 1.
 * Medians of `REPS` calls (default 9, alternating the two paths) after 2 warm-ups each, and the
 * largest difference between the two results relative to max |dx|.
 *
 * Usage: pnpm --filter @wider/backend bench convInputGrad
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util, type TensorInfo } from "@tensorflow/tfjs-core";
import { xnnpackInputGrad } from "../src/conv2dGrad.js";
import { convInputGradFor, directInputGrad, inputGradWork } from "../src/convInputGrad.js";
import { initWasmTraining } from "../src/index.js";
import { loadAverage, median, relativeDiff } from "./common.js";

const REPS = Number(process.env.REPS ?? "9");

/** [name, batch, input size, Cin, Cout, filter size, stride, padding]. */
const cases: ReadonlyArray<
  readonly [string, number, number, number, number, number, number, "valid" | "same"]
> = [
  ["conv2", 128, 13, 32, 64, 3, 1, "valid"],
  ["conv2 same", 128, 13, 32, 64, 3, 1, "same"],
  ["cin8", 128, 13, 8, 64, 3, 1, "valid"],
  ["cin3", 128, 28, 3, 32, 3, 1, "valid"],
  ["cin1", 128, 28, 1, 32, 3, 1, "valid"],
  ["cout16", 128, 13, 32, 16, 3, 1, "valid"],
  ["stride2", 128, 28, 32, 64, 3, 2, "same"],
  ["1x1", 128, 13, 64, 64, 1, 1, "valid"],
  ["5x5", 32, 24, 32, 32, 5, 1, "same"],
  ["wide", 8, 58, 64, 64, 3, 1, "valid"],
  ["deep", 32, 9, 256, 256, 3, 1, "same"],
  ["b1", 1, 30, 128, 128, 3, 1, "valid"],
];

const main = async () => {
  await initWasmTraining();
  const backend = tf.backend() as BackendWasm;
  const m = convInputGradFor(backend);
  if (m === undefined) throw new Error("the convInputGrad module cannot run here");
  console.log(`${loadAverage()}\n`);
  console.log(
    "| call | dy | filter | work ratio | XNNPACK ms | direct ms | speed-up | max diff / max abs |",
  );
  console.log("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [name, b, size, cin, cout, k, stride, pad] of cases) {
    const info = backend_util.computeConv2DInfo(
      [b, size, size, cin],
      [k, k, cin, cout],
      stride,
      1,
      pad,
    );
    const dy = tf.randomNormal([b, info.outHeight, info.outWidth, cout], 0, 1, "float32", 1);
    const w = tf.randomNormal([k, k, cin, cout], 0, 1, "float32", 2);
    const paths = {
      xnnpack: () => xnnpackInputGrad(backend, dy, w, info),
      direct: () => directInputGrad(backend, dy, w, info, m),
    };
    const time = (f: () => TensorInfo) => {
      const t0 = performance.now();
      const out = f();
      backend.readSync(out.dataId);
      const ms = performance.now() - t0;
      backend.disposeData(out.dataId);
      return ms;
    };
    for (let i = 0; i < 2; i++) for (const f of Object.values(paths)) time(f);
    const t = { xnnpack: [] as number[], direct: [] as number[] };
    for (let i = 0; i < REPS; i++) {
      t.xnnpack.push(time(paths.xnnpack));
      t.direct.push(time(paths.direct));
    }
    const a = paths.xnnpack();
    const d = paths.direct();
    const rel = relativeDiff(backend, a, d);
    const work = inputGradWork(info);
    const mx = median(t.xnnpack);
    const md = median(t.direct);
    console.log(
      `| ${name} | [${dy.shape}] | ${k}x${k}x${cin}x${cout} s${stride} ${pad} | ${(work.xnnpack / work.direct).toFixed(2)} | ${mx.toFixed(2)} | ${md.toFixed(2)} | ${(mx / md).toFixed(2)}x | ${rel.toExponential(1)} |`,
    );
    tf.dispose([dy, w]);
  }
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
