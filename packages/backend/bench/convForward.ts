/**
 * `Conv2D` on wasm, the direct SIMD module (src/convForward.ts) against the wasm package's own
 * XNNPACK kernel, on the two calls of the bench CNN's step (3x3, valid, stride 1) at batch 128
 * (one worker) and 64 (each of 2 data-parallel workers): conv1 (x [B,28,28,1], 32 filters, K = 9)
 * and conv2 (x [B,13,13,32], 64 filters, K = 288), plus the input channel counts between them, a
 * same-padded stride-2 layer and larger layers. Every call gets a new filter tensor, as in
 * training (XNNPACK caches its operator per filter tensor); the column "XNNPACK, same filter"
 * reuses one filter, so the difference is what creating and packing the operator costs. Medians of
 * `REPS` calls (default 9, alternating the paths) after 2 warm-ups each, kernel time only (the
 * wasm backend is synchronous; the output is not read back), and the largest difference between
 * the two results relative to max |y|.
 *
 * Usage: pnpm --filter @wider/backend bench convForward
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { backend_util, type TensorInfo } from "@tensorflow/tfjs-core";
import { convForwardFor, directConv2D, useDirectConv2D } from "../src/convForward.js";
import { initWasmTraining } from "../src/index.js";
import { callWasm } from "../src/wasmKernelCall.js";
import { loadAverage, median, relativeDiff } from "./common.js";

const REPS = Number(process.env.REPS ?? "9");

/** [name, batch, input size, Cin, Cout, stride, pad]. */
const cases: ReadonlyArray<
  readonly [string, number, number, number, number, number, "valid" | "same"]
> = [
  ["conv1", 128, 28, 1, 32, 1, "valid"],
  ["conv2", 128, 13, 32, 64, 1, "valid"],
  ["conv1 b64", 64, 28, 1, 32, 1, "valid"],
  ["conv2 b64", 64, 13, 32, 64, 1, "valid"],
  ["cin2", 128, 28, 2, 32, 1, "valid"],
  ["cin3", 128, 28, 3, 32, 1, "valid"],
  ["cin4", 128, 13, 4, 64, 1, "valid"],
  ["cin8", 128, 13, 8, 64, 1, "valid"],
  ["cin16", 128, 13, 16, 64, 1, "valid"],
  ["rgb s2 same", 32, 32, 3, 16, 2, "same"],
  ["rgb s2 valid", 32, 32, 3, 16, 2, "valid"],
  ["rgb s1 same", 128, 32, 3, 32, 1, "same"],
  ["conv2 same", 128, 13, 32, 64, 1, "same"],
  ["wide", 8, 58, 64, 64, 1, "valid"],
  ["deep", 32, 9, 256, 256, 1, "valid"],
  ["b1", 1, 30, 128, 128, 1, "valid"],
];

const main = async () => {
  await initWasmTraining();
  const backend = tf.backend() as BackendWasm;
  const m = convForwardFor(backend);
  if (m === undefined) throw new Error("the convForward module cannot run here");
  console.log(`${loadAverage()}\n`);
  console.log(
    "| call | x | K = 9 Cin | Cout | XNNPACK ms | XNNPACK, same filter ms | direct ms | speed-up | rule | max diff / max abs |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
  for (const [name, b, size, cin, cout, stride, pad] of cases) {
    const x = tf.randomNormal([b, size, size, cin], 0, 1, "float32", 1);
    const w0 = tf.randomNormal([3, 3, cin, cout], 0, 1, "float32", 2);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      [3, 3, cin, cout],
      stride,
      1,
      pad,
    );
    const attrs = { strides: [stride, stride], pad, dataFormat: "NHWC", dilations: [1, 1] };
    const fresh = () => tf.tidy(() => w0.mul(1));
    const paths = {
      xnnpack: (w: TensorInfo) => callWasm(backend, "Conv2D", { x, filter: w }, attrs, true),
      same: (_: TensorInfo) => callWasm(backend, "Conv2D", { x, filter: w0 }, attrs, true),
      direct: (w: TensorInfo) => directConv2D(backend, x, w, info, m),
    };
    const time = (f: (w: TensorInfo) => TensorInfo) => {
      const w = fresh();
      const t0 = performance.now();
      const out = f(w);
      const ms = performance.now() - t0;
      backend.disposeData(out.dataId);
      w.dispose();
      return ms;
    };
    for (let i = 0; i < 2; i++) for (const f of Object.values(paths)) time(f);
    const t = { xnnpack: [] as number[], same: [] as number[], direct: [] as number[] };
    for (let i = 0; i < REPS; i++) {
      t.xnnpack.push(time(paths.xnnpack));
      t.same.push(time(paths.same));
      t.direct.push(time(paths.direct));
    }
    const a = paths.xnnpack(w0);
    const d = paths.direct(w0);
    const rel = relativeDiff(backend, a, d);
    const mx = median(t.xnnpack);
    const md = median(t.direct);
    console.log(
      `| ${name} | [${x.shape}] | ${9 * cin} | ${cout} | ${mx.toFixed(2)} | ${median(t.same).toFixed(2)} | ${md.toFixed(2)} | ${(mx / md).toFixed(2)}x | ${useDirectConv2D(info) ? "direct" : "XNNPACK"} | ${rel.toExponential(1)} |`,
    );
    tf.dispose([x, w0]);
  }
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
