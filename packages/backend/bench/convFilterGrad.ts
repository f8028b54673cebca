/**
 * `Conv2DBackpropFilter` on wasm, the direct SIMD module (src/convFilterGrad.ts) against the
 * XNNPACK composition (`convFilterGrad` in src/conv2dGrad.ts), on the two calls of the bench CNN's
 * step (batch 128, 3x3, valid, stride 1): conv1 (x [128,28,28,1], dy [128,26,26,32], 9 filter
 * rows) and conv2 (x [128,13,13,32], dy [128,11,11,64], 288 rows), plus intermediate channel
 * counts and larger layers (a 56 x 56 x 64 image; 256 channels; batch 1). Medians of
 * `REPS` calls (default 9, alternating the two paths) after 2 warm-ups each, and the largest
 * difference between the two results relative to max |dw|.
 *
 * Usage: pnpm --filter @wider/backend bench convFilterGrad
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util, type TensorInfo } from "@tensorflow/tfjs-core";
import { convFilterGrad } from "../src/conv2dGrad.js";
import { bandFloats, convFilterGradFor, directFilterGrad } from "../src/convFilterGrad.js";
import { initWasmTraining } from "../src/index.js";
import { loadAverage, median, relativeDiff } from "./common.js";

const REPS = Number(process.env.REPS ?? "9");

/** [name, batch, input size, Cin, Cout] (3x3, valid, stride 1). */
const cases: ReadonlyArray<readonly [string, number, number, number, number]> = [
  ["conv1", 128, 28, 1, 32],
  ["conv2", 128, 13, 32, 64],
  ["cin2", 128, 28, 2, 32],
  ["cin4", 128, 13, 4, 64],
  ["cin8", 128, 13, 8, 64],
  ["cin16", 128, 13, 16, 64],
  ["wide", 8, 58, 64, 64],
  ["deep", 32, 9, 256, 256],
  ["b1", 1, 30, 128, 128],
];

const main = async () => {
  await initWasmTraining();
  const backend = tf.backend() as BackendWasm;
  const m = convFilterGradFor(backend);
  if (m === undefined) throw new Error("the convFilterGrad module cannot run here");
  console.log(`${loadAverage()}; bands of ${bandFloats} floats\n`);
  console.log("| call | KH*KW*Cin | XNNPACK ms | direct ms | speed-up | max diff / max abs |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const [name, b, size, cin, cout] of cases) {
    const x = tf.randomNormal([b, size, size, cin], 0, 1, "float32", 1);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      [3, 3, cin, cout],
      1,
      1,
      "valid",
    );
    const dy = tf.randomNormal([b, info.outHeight, info.outWidth, cout], 0, 1, "float32", 2);
    const paths = {
      xnnpack: () => convFilterGrad(backend, x, dy, info),
      direct: () => directFilterGrad(backend, x, dy, info, m),
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
    const mx = median(t.xnnpack);
    const md = median(t.direct);
    console.log(
      `| ${name} | ${9 * cin} | ${mx.toFixed(2)} | ${md.toFixed(2)} | ${(mx / md).toFixed(2)}x | ${rel.toExponential(1)} |`,
    );
    tf.dispose([x, dy]);
  }
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
