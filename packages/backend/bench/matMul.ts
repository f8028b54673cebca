/**
 * `BatchMatMul` on wasm, the direct SIMD module (src/matMul.ts) against the XNNPACK kernel it
 * replaces (src/xnnMatMul.ts), on every matmul of the bench MLP's training step (784-512-256-10:
 * three forward products, three weight gradients Aᵀ B, two input gradients A Bᵀ) and of the bench
 * CNN's dense layers (1600-128-10), at batch 64 and 128 (`BATCHES`). As in training, `b` is a new
 * tensor at every call of the XNNPACK kernel ("XNNPACK new b": it packs it again); "XNNPACK
 * cached" reuses one `b` (inference: packed once). Medians of `REPS` calls (default 15,
 * alternating the paths) after 2 warm-ups each (the kernels run synchronously; the result is
 * not read back inside the timing), and the largest difference between the direct
 * and XNNPACK results relative to max |c|.
 *
 * Usage: pnpm --filter @wider/backend bench matMul
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { initWasmTraining } from "../src/index.js";
import { blockFloats, directMatMul, matMulFor, maxStepBlock } from "../src/matMul.js";
import { xnnBatchMatMul } from "../src/xnnMatMul.js";
import { loadAverage, median, relativeDiff } from "./common.js";

const REPS = Number(process.env.REPS ?? "15");
const BATCHES = (process.env.BATCHES ?? "64,128").split(",").map(Number);

/** [name, a's shape, b's shape, transposeA, transposeB] for batch size `B`. */
type Call = readonly [string, number[], number[], boolean, boolean];
const calls = (B: number): Call[] => [
  ["mlp fwd1 x W1", [B, 784], [784, 512], false, false],
  ["mlp fwd2 h1 W2", [B, 512], [512, 256], false, false],
  ["mlp fwd3 h2 W3", [B, 256], [256, 10], false, false],
  ["mlp dW3 h2ᵀ d3", [B, 256], [B, 10], true, false],
  ["mlp dh2 d3 W3ᵀ", [B, 10], [256, 10], false, true],
  ["mlp dW2 h1ᵀ d2", [B, 512], [B, 256], true, false],
  ["mlp dh1 d2 W2ᵀ", [B, 256], [512, 256], false, true],
  ["mlp dW1 xᵀ d1", [B, 784], [B, 512], true, false],
  ["cnn fwd x W", [B, 1600], [1600, 128], false, false],
  ["cnn dW xᵀ d", [B, 1600], [B, 128], true, false],
  ["cnn dx d Wᵀ", [B, 128], [1600, 128], false, true],
  ["cnn fwd2 h W", [B, 128], [128, 10], false, false],
  ["cnn dW2 hᵀ d", [B, 128], [B, 10], true, false],
  ["cnn dx2 d Wᵀ", [B, 10], [128, 10], false, true],
];

const main = async () => {
  await initWasmTraining();
  const backend = tf.backend() as BackendWasm;
  const m = matMulFor(backend);
  if (m === undefined) throw new Error("the matMul module cannot run here");
  console.log(`${loadAverage()}; A blocks of ${blockFloats} floats, kc <= ${maxStepBlock}\n`);
  console.log(
    "| batch | call | a | b | XNNPACK new b ms | XNNPACK cached ms | direct ms | speed-up (new b) | direct GFLOP/s | max diff / max abs |",
  );
  console.log("| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  const totals = new Map<number, { xnn: number; cachedXnn: number; direct: number }>();
  for (const B of BATCHES) {
    const sum = { xnn: 0, cachedXnn: 0, direct: 0 };
    for (const [name, as, bs, tA, tB] of calls(B)) {
      const a = tf.randomNormal(as, 0, 1, "float32", 1);
      const b = tf.randomNormal(bs, 0, 1, "float32", 2);
      const attrs = { transposeA: tA, transposeB: tB };
      const xnnWith = (bb: TensorInfo) => () =>
        xnnBatchMatMul({ inputs: { a, b: bb }, backend, attrs }) as TensorInfo;
      const fresh = () => tf.add(b, 0); // a new tensor every call, as in training
      const time = (f: () => TensorInfo) => {
        const t0 = performance.now();
        const out = f(); // synchronous: the wasm kernels have run when it returns
        const ms = performance.now() - t0;
        backend.disposeData(out.dataId);
        return ms;
      };
      const timeFresh = () => {
        const bb = fresh();
        const ms = time(xnnWith(bb));
        bb.dispose();
        return ms;
      };
      const direct = () => directMatMul(backend, a, b, tA, tB, m);
      const cachedXnn = xnnWith(b);
      for (let i = 0; i < 2; i++) {
        timeFresh();
        time(cachedXnn);
        time(cachedXnn);
        time(direct);
      }
      const t = { xnn: [] as number[], cachedXnn: [] as number[], direct: [] as number[] };
      for (let i = 0; i < REPS; i++) {
        t.xnn.push(timeFresh());
        t.cachedXnn.push(time(cachedXnn));
        t.direct.push(time(direct));
      }
      const x = cachedXnn();
      const d = direct();
      const rel = relativeDiff(backend, x, d);
      const mx = median(t.xnn);
      const mc = median(t.cachedXnn);
      const md = median(t.direct);
      sum.xnn += mx;
      sum.cachedXnn += mc;
      sum.direct += md;
      const flops = 2 * (d.shape[0] as number) * (d.shape[1] as number) * (tA ? as[0] : as[1])!;
      console.log(
        `| ${B} | ${name} | [${as}]${tA ? "ᵀ" : ""} | [${bs}]${tB ? "ᵀ" : ""} | ${mx.toFixed(3)} | ${mc.toFixed(3)} | ${md.toFixed(3)} | ${(mx / md).toFixed(2)}x | ${(flops / md / 1e6).toFixed(1)} | ${rel.toExponential(1)} |`,
      );
      tf.dispose([a, b]);
    }
    totals.set(B, sum);
  }
  console.log(
    "\n| batch | XNNPACK new b ms (all calls) | XNNPACK cached ms | direct ms | speed-up |",
  );
  console.log("| ---: | ---: | ---: | ---: | ---: |");
  for (const [B, s] of totals)
    console.log(
      `| ${B} | ${s.xnn.toFixed(2)} | ${s.cachedXnn.toFixed(2)} | ${s.direct.toFixed(2)} | ${(s.xnn / s.direct).toFixed(2)}x |`,
    );
  console.log(`\n${loadAverage()}`);
};

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
